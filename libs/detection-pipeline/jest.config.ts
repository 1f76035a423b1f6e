export default {
  displayName: 'detection-pipeline',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/libs/detection-pipeline',
  // Real models loaded and run in most specs: seconds each on two loaded CI cores, past Jest's 5 s default
  // (backend-selection's two sessions took 7.8 s in a CI run beside other work).
  testTimeout: 30_000,
};
