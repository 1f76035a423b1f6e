// The ONNX Runtime session, on its own thread: onnxruntime-node's session.run blocks the thread that calls it
// for the whole inference, and the main thread must keep draining frames meanwhile. Frames come as 8-bit BGR and
// are preprocessed here, so the main thread neither spends the time nor copies the float tensor; their maps are
// postprocessed here too, after the main thread is told the model is done, so the stream's next frame is on its
// way meanwhile. The model writes each map straight into the postprocessor's memory; it never crosses threads.
// Bundled as its own entry beside main.js (see the apps' webpack.config.js); compiled as it loads from the sources
// (onnxruntime-backend.ts).
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { freeNow } from '@iev/frame-protocol';
import { FramePostprocessor, Preprocessor, type PostprocessSettings, type PreprocessSettings } from '@iev/text-detection';
import type { FrameBoxes } from './inference-backend';
import { inputRefusal, type ModelInput } from './model-input';
import type { BoxesReply, FrameGeometry, LentSlot, WorkerReply, WorkerRequest } from './onnxruntime-messages';

/** A reply and the buffers it hands over rather than copies. */
type Outgoing = (WorkerReply | BoxesReply) & { transfer?: ArrayBuffer[] };

if (!parentPort) throw new Error('onnxruntime-worker runs as a worker thread');
const port = parentPort;

let session: ort.InferenceSession | undefined;
/** Whether the session's output is [n, 1, H, W] for an input [n, 3, H, W] (the detection model); known after one run. */
let mapShaped: boolean | undefined;
/** The main thread's shared slots by name, each sent once (see SharedBufferRing). */
const slots = new Map<string, SharedArrayBuffer>();
/** The preprocessing settings (JSON) and a Preprocessor for them, made again when a twin patch changes them. */
let preprocessing: { settings: string; preprocessor: Preprocessor } | undefined;
const postprocessor = new FramePostprocessor();

/**
 * This thread's own tensors, kept while their size stays: ONNX Runtime refuses memory backed by a
 * SharedArrayBuffer, so a tensor sent as floats is copied out of its slot.
 */
class OwnTensor {
  private data = new Float32Array(0);
  private tensor?: ort.Tensor;

  /** A tensor of these dims over this thread's memory; the same one while the dims stay. */
  of(dims: readonly number[]): { data: Float32Array; tensor: ort.Tensor } {
    const length = dims.reduce((a, b) => a * b, 1);
    if (!this.tensor || this.data.length !== length || this.tensor.dims.some((dim, i) => dim !== dims[i])) {
      if (this.data.length !== length) this.data = new Float32Array(length);
      this.tensor = new ort.Tensor('float32', this.data, dims);
    }
    return { data: this.data, tensor: this.tensor };
  }
}

const batchInput = new OwnTensor();
const floatInput = new OwnTensor();
/** A frame's preprocessed tensor lives in the Preprocessor's memory; wrapped once per plan (its view changes with it). */
let frameInput: { view: Float32Array; tensor: ort.Tensor } | undefined;

function learn(lent: LentSlot | undefined): void {
  if (lent?.buffer) slots.set(lent.slot, lent.buffer);
}

function slot(lent: LentSlot): SharedArrayBuffer {
  const buffer = slots.get(lent.slot);
  if (!buffer) throw new Error(`slot ${lent.slot} was never sent`);
  return buffer;
}

function preprocessorFor({ preResize, resize, normalize }: PreprocessSettings): Preprocessor {
  const key = JSON.stringify({ preResize, resize, normalize });
  if (preprocessing?.settings !== key) preprocessing = { settings: key, preprocessor: new Preprocessor({ preResize, resize, normalize }) };
  return preprocessing.preprocessor;
}

/**
 * Frames in the input slot, one after another, preprocessed into the model input: one frame's is the
 * Preprocessor's own tensor, a batch's is copied frame by frame into this thread's batch tensor.
 */
function preprocessFrames(input: SharedArrayBuffer, frames: readonly FrameGeometry[], settings: PreprocessSettings): ort.Tensor {
  const preprocessor = preprocessorFor(settings);
  const pixels = (frame: FrameGeometry) => ({ ...frame, data: new Uint8Array(input, frame.offset, frame.height * frame.stride) });
  const first = preprocessor.run(pixels(frames[0]));
  const dims = [frames.length, 3, first.height, first.width];
  if (frames.length === 1) {
    if (frameInput?.view !== first.tensor) frameInput = { view: first.tensor, tensor: new ort.Tensor('float32', first.tensor, dims) };
    return frameInput.tensor;
  }
  const batch = batchInput.of(dims);
  batch.data.set(first.tensor);
  // Read before the next frame: a frame of another size re-plans the Preprocessor's memory, detaching this view.
  const frameLength = first.tensor.length;
  for (let i = 1; i < frames.length; i++) {
    const next = preprocessor.run(pixels(frames[i]));
    if (next.width !== first.width || next.height !== first.height) {
      throw new RangeError(`a batch needs frames with one model input size: frame 0's is ${first.width}x${first.height}, frame ${i}'s ${next.width}x${next.height}`);
    }
    batch.data.set(next.tensor, i * frameLength);
  }
  return batch.tensor;
}

/** The postprocessor's map memory as a tensor of these dims: made again when that memory moves or the dims change. */
let postprocessorMap: ort.Tensor | undefined;

function postprocessorMapTensor(dims: readonly number[]): ort.Tensor {
  const memory = postprocessor.mapMemory(dims[3], dims[2], dims[0]);
  // The same memory may be lent for another size of the same length (288x128, 576x64): the dims must match too.
  if (postprocessorMap?.data !== memory || postprocessorMap.dims.some((size, i) => size !== dims[i])) postprocessorMap = new ort.Tensor('float32', memory, dims);
  return postprocessorMap;
}

/**
 * The session's output for this input. Given `mapTensor`, and once the first run has shown the output to be a
 * map [n, 1, H, W] for an input [n, 3, H, W], the map is written into the tensor it gives and that tensor's memory is
 * returned: onnxruntime-node also returns a copy of its own, which is freed unread.
 */
async function infer(input: ort.Tensor, mapTensor?: (dims: readonly number[]) => ort.Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  if (!session) throw new Error('no model loaded');
  const dims = input.dims;
  const mapDims = [dims[0], 1, dims[2], dims[3]];
  const outputName = session.outputNames[0];
  const target = mapShaped && mapTensor ? mapTensor(mapDims) : undefined;
  const output = (await session.run({ [session.inputNames[0]]: input }, target && { [outputName]: target }))[outputName];
  mapShaped ??= output.dims.length === 4 && output.dims.every((size, i) => size === mapDims[i]);
  if (!target) return { data: output.data as Float32Array, dims: output.dims };
  freeNow(output.data as Float32Array); // the unread copy: left to the GC, it costs a page fault per 4 KiB (freeNow)
  return { data: target.data as Float32Array, dims: target.dims };
}

/**
 * Runs the model on a float tensor and writes the output into the output slot when it fits there; otherwise (no
 * slot lent, or another model's output: the recognizer's) sends the output itself.
 */
async function run(request: Extract<WorkerRequest, { type: 'run' }>): Promise<Outgoing> {
  learn(request.input);
  learn(request.output);
  const input = floatInput.of(request.dims);
  input.data.set(new Float32Array(slot(request.input), 0, input.data.length));
  // The output is onnxruntime-node's own copy: written into the slot, or handed over.
  const { data, dims } = await infer(input.tensor);
  const target = request.output && slots.get(request.output.slot);
  if (target && target.byteLength >= data.byteLength) {
    new Float32Array(target, 0, data.length).set(data);
    freeNow(data);
    return { type: 'result', dims: [...dims] };
  }
  return { type: 'result', data, dims: [...dims], transfer: [data.buffer as ArrayBuffer] };
}

/**
 * Detects text on the frames in the input slot: preprocess, run, then say 'ran' at once (the main thread frees the
 * stream and asks for its next frame) and postprocess each frame's slice of the map while that frame is on its way.
 * A postprocessing failure is the boxes reply's, never a reply to the next request.
 */
async function detect(request: Extract<WorkerRequest, { type: 'detect' }>): Promise<Outgoing> {
  learn(request.input);
  const started = performance.now();
  const input = preprocessFrames(slot(request.input), request.frames, request.settings);
  const preprocessed = performance.now();
  // The map goes straight where the postprocessor thresholds it.
  const maps = await infer(input, postprocessorMapTensor);
  send({ type: 'ran', preprocessMs: preprocessed - started, inferenceMs: performance.now() - preprocessed });
  try {
    return { type: 'boxes', frames: postprocessFrames(maps, request.frames, request.settings) };
  } catch (error) {
    return { type: 'boxes', error: messageOf(error) };
  }
}

function postprocessFrames(maps: { data: Float32Array; dims: readonly number[] }, frames: readonly FrameGeometry[], settings: PostprocessSettings): FrameBoxes[] {
  const [mapHeight, mapWidth] = maps.dims.slice(-2);
  const mapLength = mapHeight * mapWidth;
  return frames.map(({ width, height }, i) => {
    const started = performance.now();
    const boxes = postprocessor.run(maps.data.subarray(i * mapLength, (i + 1) * mapLength), mapWidth, mapHeight, width, height, settings);
    return { boxes, postprocessMs: performance.now() - started };
  });
}

/** The session's first input as inputRefusal reads it: a symbolic or unknown (-1) dimension is an open one. */
function modelInputOf(metadata: ort.InferenceSession.ValueMetadata | undefined): ModelInput | undefined {
  if (!metadata?.isTensor) return metadata && { name: metadata.name, dims: [] };
  return { name: metadata.name, type: metadata.type, dims: metadata.shape.map((size) => (typeof size === 'number' && size >= 0 ? size : undefined)) };
}

async function handle(request: WorkerRequest): Promise<Outgoing> {
  switch (request.type) {
    case 'load': {
      const created = await ort.InferenceSession.create(request.model, request.options as ort.InferenceSession.SessionOptions);
      const refusal = inputRefusal(modelInputOf(created.inputMetadata[0]), request.demand);
      if (refusal) {
        await created.release();
        throw new Error(refusal);
      }
      session = created;
      mapShaped = undefined;
      return { type: 'loaded' };
    }
    case 'run':
      return run(request);
    case 'detect':
      return detect(request);
    case 'dispose':
      await session?.release();
      session = undefined;
      slots.clear();
      return { type: 'disposed' };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function send({ transfer, ...reply }: Outgoing): void {
  port.postMessage(reply, transfer ?? []);
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(send, (error: unknown) => send({ type: 'error', message: messageOf(error) }));
});
