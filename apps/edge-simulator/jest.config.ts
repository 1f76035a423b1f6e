export default {
  displayName: 'edge-simulator',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/edge-simulator',
  // The e2e spec runs the built simulator and two module processes with the real SDK.
  testTimeout: 30_000,
};
