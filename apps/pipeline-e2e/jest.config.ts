export default {
  displayName: 'pipeline-e2e',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/apps/pipeline-e2e',
  // The modules are real processes: model load and ffmpeg start take seconds on two cores.
  testTimeout: 60_000,
};
