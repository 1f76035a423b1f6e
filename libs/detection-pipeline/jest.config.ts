export default {
  displayName: 'detection-pipeline',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/detection-pipeline',
};
