export default {
  displayName: 'iot-edge',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/iot-edge',
  // The module SDK against the emulated edgeHub: real TLS connections and reconnects, a few seconds each on two cores.
  testTimeout: 20_000,
};
