export default {
  displayName: 'inference-backends',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/inference-backends',
};
