// The ONNX Runtime session, on its own thread: onnxruntime-node's session.run blocks the thread that calls it
// for the whole inference, and the main thread must keep draining frames meanwhile. Plain CommonJS so it runs
// as-is from the sources and from an app bundle (copied beside main.js).
const { parentPort } = require('node:worker_threads');
const ort = require('onnxruntime-node');

let session;
/** Whether the session's output is [n, 1, H, W] for an input [n, 3, H, W] (the detection model); known after one run. */
let mapShaped;
/** The main thread's shared slots by name, each sent once (see SharedBufferRing). */
const slots = new Map();
// This thread's own tensors, kept while the size stays: ONNX Runtime refuses memory backed by a SharedArrayBuffer,
// so the input is copied out of its slot and the output into its slot, here rather than on the main thread.
let input = new Float32Array(0);
let map = new Float32Array(0);

function learn(lent) {
  if (lent?.buffer) slots.set(lent.slot, lent.buffer);
}

/**
 * Runs the model on the input slot and writes the output into the output slot when it fits there; otherwise (no
 * slot lent, or another model's output: the recognizer's) sends the output itself.
 */
async function run({ input: inputSlot, length, dims, output: outputSlot }) {
  learn(inputSlot);
  learn(outputSlot);
  if (input.length !== length) input = new Float32Array(length);
  input.set(new Float32Array(slots.get(inputSlot.slot), 0, length));
  const outputName = session.outputNames[0];
  const mapDims = [dims[0], 1, dims[2], dims[3]];
  let fetches;
  if (mapShaped) {
    const mapLength = mapDims.reduce((a, b) => a * b);
    if (map.length !== mapLength) map = new Float32Array(mapLength);
    fetches = { [outputName]: new ort.Tensor('float32', map, mapDims) };
  }
  const output = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, dims) }, fetches))[outputName];
  mapShaped ??= output.dims.length === 4 && output.dims.every((size, i) => size === mapDims[i]);
  const slot = outputSlot && slots.get(outputSlot.slot);
  if (slot && slot.byteLength >= output.data.byteLength) {
    new Float32Array(slot, 0, output.data.length).set(output.data);
    return { type: 'result', dims: output.dims };
  }
  const data = output.data === map ? map.slice() : output.data;
  return { type: 'result', data, dims: output.dims, transfer: [data.buffer] };
}

async function handle(message) {
  switch (message.type) {
    case 'load':
      session = await ort.InferenceSession.create(message.model, message.options);
      mapShaped = undefined;
      return { type: 'loaded' };
    case 'run':
      return run(message);
    case 'dispose':
      await session?.release();
      session = undefined;
      slots.clear();
      return { type: 'disposed' };
    default:
      throw new Error(`unknown request ${message.type}`);
  }
}

parentPort.on('message', (message) => {
  handle(message).then(
    ({ transfer, ...reply }) => parentPort.postMessage(reply, transfer ?? []),
    (error) => parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
