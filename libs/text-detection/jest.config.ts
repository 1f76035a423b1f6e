export default {
  displayName: 'text-detection',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/text-detection',
};
