export default {
  displayName: 'capture-sources',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/capture-sources',
};
