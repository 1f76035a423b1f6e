export default {
  displayName: 'frame-protocol',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/frame-protocol',
};
