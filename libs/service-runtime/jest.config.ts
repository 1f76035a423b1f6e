export default {
  displayName: 'service-runtime',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/service-runtime',
};
