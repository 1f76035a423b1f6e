import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { readBgrImage, waitUntil } from '@iev/testing';
import { FramePostprocessor, getPreset, Preprocessor, type DetectionPreset, type ImageView } from '@iev/text-detection';
import type { ImageDetectionRun } from './inference-backend';
import { OnnxRuntimeBackend } from './onnxruntime-backend';
import { withFixedInputDims } from './onnx-graph/onnx-model';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');
const FRAMES = join(__dirname, '../../../../testdata/text-frames');

describe('OnnxRuntimeBackend (real model)', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  beforeAll(() => backend.load(), 60_000);
  afterAll(() => backend.dispose());

  it('identifies the model by its sha256', () => {
    expect(backend.modelSha256).toBe('7ceb879269ed0e1124f74e1d98bbd2be26479a75debae64df80d2bf302abb6be');
    expect(backend.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
  });

  it('returns a probability map of the input size for any multiple of 32', async () => {
    const input = new Float32Array(3 * 64 * 96).fill(0.5);
    const output = await backend.run({ data: input, dims: [1, 3, 64, 96] });
    expect(output.dims).toEqual([1, 1, 64, 96]);
    expect(output.data).toHaveLength(64 * 96);
    expect(output.data.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('fails with a message naming the file when the model is missing', async () => {
    const missing = new OnnxRuntimeBackend({ modelPath: '/nonexistent/model.onnx' });
    await expect(missing.load()).rejects.toThrow('cannot read model file /nonexistent/model.onnx: no such file');
  });

  it('says where a relative model path was looked for', async () => {
    const relative = new OnnxRuntimeBackend({ modelPath: 'no-such-dir/model.onnx' });
    await expect(relative.load()).rejects.toThrow(`(${process.cwd()}/no-such-dir/model.onnx); set MODEL_PATH to the model's full path`);
  });

  it('refuses to run before load()', async () => {
    const unloaded = new OnnxRuntimeBackend({ modelPath: MODEL });
    await expect(unloaded.run({ data: new Float32Array(3), dims: [1, 3, 1, 1] })).rejects.toThrow('load() has not completed');
  });
});

describe('OnnxRuntimeBackend off the main thread', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  beforeAll(() => backend.load(), 60_000);
  afterAll(() => backend.dispose());

  it('keeps the event loop free while the model runs, so sockets keep draining', async () => {
    const input = { data: new Float32Array(3 * 480 * 480).fill(0.2), dims: [1, 3, 480, 480] };
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    await backend.run(input);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('gives the same map as a fresh run for repeated and resized inputs (the reused buffer is not stale)', async () => {
    const small = { data: new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i)), dims: [1, 3, 64, 64] };
    const large = { data: new Float32Array(3 * 128 * 96).map((_, i) => Math.cos(i)), dims: [1, 3, 128, 96] };
    const first = Array.from((await backend.run(small)).data);
    await backend.run(large);
    const again = await backend.run(small);
    expect(again.dims).toEqual([1, 1, 64, 64]);
    expect(Array.from(again.data)).toEqual(first);
  });

  it('refuses concurrent runs instead of mixing them up', async () => {
    const input = { data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] };
    const first = backend.run(input);
    await expect(backend.run(input)).rejects.toThrow('must not be called concurrently');
    await first;
  });
});

describe('OnnxRuntimeBackend output maps', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  beforeAll(() => backend.load(), 60_000);
  afterAll(() => backend.dispose());

  it('lends each map from a ring: a map still out is never written again, a recycled one is reused', async () => {
    const input = (seed: number) => ({ data: new Float32Array(3 * 96 * 64).map((_, i) => Math.sin(i / seed)), dims: [1, 3, 96, 64] });
    const first = await backend.run(input(7));
    const expected = Array.from(first.data);
    const second = await backend.run(input(11));
    expect(second.data.buffer).not.toBe(first.data.buffer);
    expect(Array.from(first.data)).toEqual(expected); // not overwritten by the run after it
    const expectedSecond = Array.from(second.data);
    backend.recycle(first);
    const third = await backend.run(input(11));
    expect(third.data.buffer).toBe(first.data.buffer); // written in place: no new memory for the map
    expect(third.dims).toEqual([1, 1, 96, 64]);
    expect(Array.from(third.data)).toEqual(expectedSecond);
    backend.recycle(second);
    backend.recycle(third);
  });

  it('still gives a correct map when every slot is out (the caller has not recycled), in memory of its own', async () => {
    const input = { data: new Float32Array(3 * 64 * 64).map((_, i) => Math.cos(i / 5)), dims: [1, 3, 64, 64] };
    const held = [await backend.run(input), await backend.run(input), await backend.run(input)];
    const beyond = await backend.run(input);
    expect(held.map((map) => map.data.buffer)).not.toContain(beyond.data.buffer);
    expect(beyond.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(beyond.data)).toEqual(Array.from(held[0].data));
    for (const map of held) backend.recycle(map);
  });
});

describe('OnnxRuntimeBackend loaded again after dispose()', () => {
  it('sends its shared slots to the new worker and runs as before', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
    const input = { data: new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i / 3)), dims: [1, 3, 64, 64] };
    await backend.load();
    try {
      const before = await backend.run(input);
      const expected = Array.from(before.data);
      backend.recycle(before);
      await backend.dispose();
      await backend.load();
      const after = await backend.run(input);
      expect(after.data.buffer).toBe(before.data.buffer);
      expect(Array.from(after.data)).toEqual(expected);
    } finally {
      await backend.dispose();
    }
    // Two model loads and two worker starts: 5 s was not enough beside CI's other projects (load 12 on two cores).
  }, 30_000);
});

describe('OnnxRuntimeBackend on a model whose output is no map (the recognizer)', () => {
  const recognizer = new OnnxRuntimeBackend({ modelPath: join(__dirname, '../../../../models/ch_PP-OCRv4_rec_infer.onnx'), intraOpThreads: 1 });
  beforeAll(() => recognizer.load(), 60_000);
  afterAll(() => recognizer.dispose());

  it('hands the first output over in memory of its own, and later ones in a recycled slot grown to fit', async () => {
    const input = { data: new Float32Array(3 * 48 * 160).map((_, i) => Math.sin(i / 9)), dims: [2, 3, 48, 80] };
    const first = await recognizer.run(input);
    expect(first.dims).toHaveLength(3);
    expect(first.dims[0]).toBe(2);
    expect(first.data).toHaveLength(first.dims.reduce((a, b) => a * b));
    expect(first.data.buffer).toBeInstanceOf(ArrayBuffer);
    const expected = Array.from(first.data);
    const second = await recognizer.run(input);
    expect(second.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(second.data)).toEqual(expected);
    recognizer.recycle(second);
    const third = await recognizer.run(input);
    expect(third.data.buffer).toBe(second.data.buffer);
    expect(Array.from(third.data)).toEqual(expected);
    recognizer.recycle(third);
  });
});

describe('OnnxRuntimeBackend detecting text on frames on its worker', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  const frame = (name: string, width: number, height: number) => readBgrImage(join(FRAMES, name), width, height);
  beforeAll(() => backend.load(), 60_000);
  afterAll(() => backend.dispose());

  /** Each frame's boxes from frames preprocessed and postprocessed on this thread, run as floats. */
  const boxesOnThisThread = async (images: ImageView[], preset: DetectionPreset) => {
    const preprocessor = new Preprocessor(preset);
    const tensors = images.map((image) => preprocessor.run(image).tensor.slice());
    const { height, width } = preprocessor.run(images[0]);
    const data = new Float32Array(tensors.length * tensors[0].length);
    tensors.forEach((tensor, i) => data.set(tensor, i * tensor.length));
    const output = await backend.run({ data, dims: [images.length, 3, height, width] });
    const postprocessor = new FramePostprocessor();
    const boxes = images.map((image, i) => postprocessor.run(output.data.subarray(i * height * width, (i + 1) * height * width), width, height, image.width, image.height, preset));
    backend.recycle(output);
    return boxes;
  };
  const boxesOf = async (run: ImageDetectionRun) => (await run.frames).map((frame) => frame.boxes);

  it('finds the boxes of the same frames preprocessed, run and postprocessed here, one frame or a batch, and times both ends', async () => {
    const preset = getPreset('default');
    const images = [frame('dev-a/frame_000.png', 640, 480), frame('dev-a/frame_001.png', 640, 480)];
    for (const batch of [images.slice(0, 1), images]) {
      const run = await backend.detectImages(batch, preset);
      const frames = await run.frames;
      expect(frames.map((found) => found.boxes)).toEqual(await boxesOnThisThread(batch, preset));
      expect(frames[0].boxes.length).toBeGreaterThan(5);
      expect(run.preprocessMs).toBeGreaterThan(0);
      for (const found of frames) expect(found.postprocessMs).toBeGreaterThan(0);
    }
  }, 60_000);

  it('follows new settings, and squashes frames of other sizes to one input as the preset says', async () => {
    const seed = getPreset('seed');
    const images = [frame('dev-a/frame_000.png', 640, 480), frame('dev-b/frame_000.png', 1280, 720)];
    expect(await boxesOf(await backend.detectImages(images, seed))).toEqual(await boxesOnThisThread(images, seed));
  }, 60_000);

  it("takes the next frame as soon as the model is done with one, while that one's boxes are made", async () => {
    const preset = getPreset('seed');
    const [first, second] = [frame('dev-a/frame_000.png', 640, 480), frame('dev-a/frame_001.png', 640, 480)];
    const firstRun = await backend.detectImages([first], preset);
    let firstBoxesMade = false;
    void firstRun.frames.then(() => (firstBoxesMade = true));
    const secondRunning = backend.detectImages([second], preset);
    expect(firstBoxesMade).toBe(false);
    const secondRun = await secondRunning;
    expect([...(await boxesOf(firstRun)), ...(await boxesOf(secondRun))]).toEqual(await boxesOnThisThread([first, second], preset));
  }, 60_000);

  it("fails only that detection's boxes when postprocessing fails, and the next detection runs", async () => {
    const preset = getPreset('default');
    const image = frame('dev-a/frame_000.png', 640, 480);
    const broken = await backend.detectImages([image], { ...preset, postprocess: undefined as unknown as DetectionPreset['postprocess'] });
    const next = await backend.detectImages([image], preset);
    await expect(broken.frames).rejects.toThrow('onnxruntime-cpu: postprocessing failed:');
    expect(await boxesOf(next)).toEqual(await boxesOnThisThread([image], preset));
  }, 60_000);

  it('follows model inputs that change shape but not size (288x128, then 576x64, and back)', async () => {
    const preset = getPreset('default');
    const whole = frame('dev-a/frame_000.png', 640, 480);
    // Parts of the frame, read in place through its stride: multiples of 32, so they run at their own size.
    const part = (x: number, y: number, width: number, height: number): ImageView => ({ ...whole, data: whole.data.subarray(y * whole.stride + x * 3), width, height });
    for (const image of [part(0, 96, 288, 128), part(0, 96, 288, 128), part(32, 160, 576, 64), part(32, 160, 576, 64), part(0, 96, 288, 128)]) {
      expect(await boxesOf(await backend.detectImages([image], preset))).toEqual(await boxesOnThisThread([image], preset));
    }
  }, 60_000);

  it('refuses a batch of frames with different model inputs, naming their sizes, and detects the next', async () => {
    const images = [frame('dev-a/frame_000.png', 640, 480), frame('dev-b/frame_000.png', 1280, 720)];
    await expect(backend.detectImages(images, getPreset('default'))).rejects.toThrow("a batch needs frames with one model input size: frame 0's is 640x480, frame 1's 960x544");
    expect((await boxesOf(await backend.detectImages(images.slice(0, 1), getPreset('default'))))[0].length).toBeGreaterThan(5);
  });
});

describe('OnnxRuntimeBackend whose worker ends on its own (a crash)', () => {
  it('fails calls with why while its worker is down, keeps its model identity, and restarts the worker with the same model', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
    await backend.load();
    try {
      const input = { data: new Float32Array(3 * 64 * 64).fill(0.5), dims: [1, 3, 64, 64] };
      await (backend as unknown as { worker: Worker }).worker.terminate();
      expect(backend.streamsDown).toBe(1);
      await expect(backend.run(input)).rejects.toThrow('onnxruntime-cpu: worker exited (code 1); restarting it');
      expect(backend.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
      await waitUntil(() => backend.streamsDown === 0, 'the worker to restart');
      expect((await backend.run(input)).dims).toEqual([1, 1, 64, 64]);
    } finally {
      await backend.dispose();
    }
  }, 30_000);
});

describe('OnnxRuntimeBackend asked to run while dispose() is under way', () => {
  const input = { data: new Float32Array(3 * 64 * 64).fill(0.5), dims: [1, 3, 64, 64] };
  /** Fails, rather than hangs, where `promise` never settles. */
  const settledWithin = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still unsettled after ${ms} ms`)), ms).unref())]);

  it('refuses a run that starts after dispose() was called, so it settles', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
    await backend.load();
    const disposed = backend.dispose();
    const refused = expect(settledWithin(backend.run(input), 10_000)).rejects.toThrow('onnxruntime-cpu: dispose() has been called');
    await settledWithin(disposed, 10_000);
    await refused;
  }, 30_000);

  it('loads again only once the disposal is done, with a worker of its own', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
    await backend.load();
    const disposed = backend.dispose();
    await backend.load();
    await disposed;
    try {
      expect((await settledWithin(backend.run(input), 10_000)).dims).toEqual([1, 1, 64, 64]);
    } finally {
      await backend.dispose();
    }
  }, 30_000);
});

describe('OnnxRuntimeBackend checks the model input at load', () => {
  const fixedBatchPath = join(tmpdir(), `fixed-batch-${process.pid}.onnx`);
  beforeAll(() => writeFileSync(fixedBatchPath, withFixedInputDims(readFileSync(MODEL), [1])));
  afterAll(() => rmSync(fixedBatchPath, { force: true }));

  it('refuses a model whose input has a fixed batch of 1 when runs take batches of 2, naming the file and what it expects', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: fixedBatchPath, intraOpThreads: 1, batch: 2 });
    await expect(backend.load()).rejects.toThrow(`onnxruntime-cpu: cannot load ${fixedBatchPath} (set by MODEL_PATH): its input x is float32 [1, 3, ?, ?]; expected float32 [N, 3, H, W] with N dynamic, for batches of up to 2`);
  }, 30_000);

  it('loads that model for single frames', async () => {
    const backend = new OnnxRuntimeBackend({ modelPath: fixedBatchPath, intraOpThreads: 1 });
    await backend.load();
    await backend.dispose();
  }, 30_000);
});
