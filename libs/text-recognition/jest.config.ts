export default {
  displayName: 'text-recognition',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/text-recognition',
};
