export default {
  displayName: 'tensorrt-backend',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/tensorrt-backend',
};
