export default {
  displayName: 'edge-hub-emulator',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/edge-hub-emulator',
  // Real TLS connections and SDK reconnects: a few seconds each on two cores.
  testTimeout: 20_000,
};
