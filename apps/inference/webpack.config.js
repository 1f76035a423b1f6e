module.exports = require('../../tools/webpack/node-app')(__dirname, {
  // ONNX Runtime runs on a worker thread from its own bundle, which must sit beside main.js.
  additionalEntryPoints: [{ entryName: 'onnxruntime-worker', entryPath: 'libs/inference-backends/src/lib/onnxruntime-worker.ts' }],
});
