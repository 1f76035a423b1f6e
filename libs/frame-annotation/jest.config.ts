export default {
  displayName: 'frame-annotation',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/frame-annotation',
};
