export default {
  displayName: 'telemetry-sinks',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/telemetry-sinks',
};
