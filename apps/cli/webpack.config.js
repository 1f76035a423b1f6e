module.exports = require('../../tools/webpack/node-app')(__dirname, {
  // ONNX Runtime runs on a worker thread from this script, which must sit beside main.js.
  assets: [{ input: 'libs/inference-backends/src/lib', glob: 'onnxruntime-worker.js', output: '.' }],
});
