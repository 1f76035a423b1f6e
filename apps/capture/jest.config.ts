export default {
  displayName: 'capture',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/capture',
};
