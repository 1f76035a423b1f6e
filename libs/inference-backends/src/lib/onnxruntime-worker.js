// The ONNX Runtime session, on its own thread: onnxruntime-node's session.run blocks the thread that calls it
// for the whole inference, and the main thread must keep draining frames meanwhile. Plain CommonJS so it runs
// as-is from the sources and from an app bundle (copied beside main.js).
const { parentPort } = require('node:worker_threads');
const ort = require('onnxruntime-node');

let session;

async function handle(message) {
  switch (message.type) {
    case 'load':
      session = await ort.InferenceSession.create(message.model, message.options);
      return { type: 'loaded' };
    case 'run': {
      const input = new ort.Tensor('float32', new Float32Array(message.buffer, 0, message.length), message.dims);
      const outputs = await session.run({ [session.inputNames[0]]: input });
      const output = outputs[session.outputNames[0]];
      // The input buffer goes back for reuse; the output is handed over, not copied.
      return { type: 'result', buffer: message.buffer, data: output.data, dims: output.dims, transfer: [message.buffer, output.data.buffer] };
    }
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
    (error) => parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error), buffer: message.buffer }),
  );
});
