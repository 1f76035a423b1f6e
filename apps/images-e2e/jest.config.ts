export default {
  displayName: 'images-e2e',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/images-e2e',
  // Building the three images from nothing takes minutes on two cores (see docker/README.md); the
  // build runs once, in beforeAll, with its own timeout.
  testTimeout: 60_000,
};
