export default {
  displayName: 'preview',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/preview',
};
