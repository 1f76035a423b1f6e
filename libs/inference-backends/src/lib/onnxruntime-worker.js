// The ONNX Runtime session, on its own thread: onnxruntime-node's session.run blocks the thread that calls it
// for the whole inference, and the main thread must keep draining frames meanwhile. Plain CommonJS so it runs
// as-is from the sources and from an app bundle (copied beside main.js).
const { parentPort } = require('node:worker_threads');
const ort = require('onnxruntime-node');

let session;

/** Runs the model, writing the map into `outputBuffer` when the main thread handed one back for reuse. */
async function run({ buffer, length, dims, outputBuffer }) {
  const input = new ort.Tensor('float32', new Float32Array(buffer, 0, length), dims);
  const outputName = session.outputNames[0];
  const outputLength = dims[2] * dims[3];
  const reuse = outputBuffer && outputBuffer.byteLength >= outputLength * Float32Array.BYTES_PER_ELEMENT;
  const fetches = reuse ? { [outputName]: new ort.Tensor('float32', new Float32Array(outputBuffer, 0, outputLength), [dims[0], 1, dims[2], dims[3]]) } : undefined;
  const outputs = await session.run({ [session.inputNames[0]]: input }, fetches);
  // With a reused buffer the main thread gets no new allocation per frame (a too-small one stays here as garbage).
  const data = reuse ? new Float32Array(outputBuffer, 0, outputLength) : outputs[outputName].data;
  return { type: 'result', buffer, data, dims: outputs[outputName].dims, transfer: [buffer, data.buffer] };
}

async function handle(message) {
  switch (message.type) {
    case 'load':
      session = await ort.InferenceSession.create(message.model, message.options);
      return { type: 'loaded' };
    case 'run':
      return run(message);
    case 'dispose':
      await session?.release();
      session = undefined;
      return { type: 'disposed' };
    default:
      throw new Error(`unknown request ${message.type}`);
  }
}

parentPort.on('message', (message) => {
  handle(message).then(
    ({ transfer, ...reply }) => parentPort.postMessage(reply, transfer ?? []),
    (error) =>
      parentPort.postMessage(
        { type: 'error', message: error instanceof Error ? error.message : String(error), buffer: message.buffer, outputBuffer: message.outputBuffer },
        [message.buffer, message.outputBuffer].filter(Boolean),
      ),
  );
});
