export default {
  displayName: 'preview-server',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/preview-server',
};
