import { eventually, readBgrImage } from '@iev/testing';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { BackendPool, OnnxRuntimeBackend } from '@iev/inference-backends';
import { evaluateDetections, getPreset, readTextFrameSet, scoreParity, type Quad, type TextFrame } from '@iev/text-detection';
import { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');
const MODEL = join(ROOT, 'models/ch_pp_inf_dynamic.onnx');
const FRAMES = join(ROOT, 'testdata/text-frames');

/** A development set's frames and our boxes on each. */
interface SetResult {
  frames: TextFrame[];
  ours: Quad[][];
}

async function runSet(detector: TextDetector, set: string): Promise<SetResult> {
  const frames = readTextFrameSet(join(FRAMES, set));
  const ours: Quad[][] = [];
  for (const frame of frames) ours.push((await detector.detect(readBgrImage(frame.path, frame.width, frame.height))).boxes.map((box) => box.points));
  return { frames, ours };
}

const hmean = (detections: readonly Quad[][], truth: readonly Quad[][]) =>
  evaluateDetections(truth.map((gt, i) => ({ gt, detections: detections[i] }))).hmean;
const truthOf = (result: SetResult) => result.frames.map((frame) => frame.truth);

const backend = new OnnxRuntimeBackend({ modelPath: MODEL });
/** The seed preset on dev-a and dev-b, run once for every test below. */
let seedResults: SetResult[];
let seedDetector: TextDetector;

beforeAll(async () => {
  await backend.load();
  seedDetector = new TextDetector(backend, getPreset('seed'));
  seedResults = [await runSet(seedDetector, 'dev-a'), await runSet(seedDetector, 'dev-b')];
}, 120_000);
afterAll(() => backend.dispose());

describe('TextDetector with the seed preset reproduces the original sample (real model, real frames)', () => {
  const parity = () =>
    scoreParity(seedResults.flatMap((result) => result.frames.map((frame, i) => ({ reference: frame.reference ?? [], ours: result.ours[i] }))));

  it("matches >= 98% of the sample's boxes at IoU >= 0.9 across dev-a and dev-b", () => {
    const { matched, referenceBoxes } = parity();
    expect(referenceBoxes).toBeGreaterThan(200);
    expect(matched / referenceBoxes).toBeGreaterThanOrEqual(0.98);
  });

  it('finds the same number of boxes as the sample on >= 95% of frames', () => {
    const { equalCountFrames, frames } = parity();
    expect(equalCountFrames / frames).toBeGreaterThanOrEqual(0.95);
  });

  it("scores at least the sample's hmean (minus 0.005) against the ground truth on each set", () => {
    for (const result of seedResults) {
      const reference = result.frames.map((frame) => frame.reference ?? []);
      expect(hmean(result.ours, truthOf(result))).toBeGreaterThanOrEqual(hmean(reference, truthOf(result)) - 0.005);
    }
  });

  it('reports integer points inside the frame, clockwise from top-left', () => {
    for (const frameBoxes of seedResults[1].ours) {
      for (const [[x0, y0], [x1], , [, y3]] of frameBoxes) {
        expect(x1).toBeGreaterThanOrEqual(x0);
        expect(y3).toBeGreaterThanOrEqual(y0);
      }
      for (const point of frameBoxes.flat()) {
        expect(Number.isInteger(point[0]) && point[0] >= 0 && point[0] <= 1280).toBe(true);
        expect(Number.isInteger(point[1]) && point[1] >= 0 && point[1] <= 720).toBe(true);
      }
    }
  });

  it('times each stage', async () => {
    const { timings } = await seedDetector.detect(readBgrImage(join(FRAMES, 'dev-a/frame_000.png'), 640, 480));
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
  });
});

describe('the default preset', () => {
  it('runs its own model (PP-OCRv4), more accurate than the seed preset over both dev sets (the reason it is the default), batched or not', async () => {
    const preset = getPreset('default');
    const ownModel = new OnnxRuntimeBackend({ modelPath: join(ROOT, 'models', preset.modelFile) });
    await ownModel.load();
    try {
      const detector = new TextDetector(ownModel, preset, undefined, 4);
      const results = [await runSet(detector, 'dev-a'), await runSet(detector, 'dev-b')];
      const overall = (sets: SetResult[]) => hmean(sets.flatMap((set) => set.ours), sets.flatMap(truthOf));
      expect(overall(results)).toBeGreaterThanOrEqual(overall(seedResults) + 0.05);
      // dev-a's 640x480 frames four at a time, as a scheduler batches them: the same boxes as one at a time.
      const frames = results[0].frames.map((frame) => readBgrImage(frame.path, frame.width, frame.height));
      const batched: Quad[][] = [];
      for (let i = 0; i < frames.length; i += 4) for (const result of await detector.detectBatch(frames.slice(i, i + 4))) batched.push(result.boxes.map((box) => box.points));
      expect(batched).toEqual(results[0].ours);
    } finally {
      await ownModel.dispose();
    }
  }, 120_000);
});

describe('TextDetector on two streams', () => {
  const pool = new BackendPool([new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 }), new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 })]);
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it('takes as many images into the model as there are streams, and whenReady() waits for one to come out', async () => {
    const detector = new TextDetector(pool, getPreset('seed'));
    const images = ['dev-a/frame_000.png', 'dev-a/frame_001.png'].map((name) => readBgrImage(join(FRAMES, name), 640, 480));
    expect(detector.concurrency).toBe(2);
    const first = detector.infer(images[0]);
    await detector.whenReady(); // one of two streams busy: another image may go in
    const second = detector.infer(images[1]);
    let ready = false;
    const whenReady = detector.whenReady().then(() => (ready = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ready).toBe(false);
    const [one, two] = await Promise.all([first, second]);
    await whenReady;
    // The same boxes as one image at a time on one stream: concurrent runs do not share buffers.
    expect([(await one.finish()).boxes, (await two.finish()).boxes]).toEqual([(await seedDetector.detect(images[0])).boxes, (await seedDetector.detect(images[1])).boxes]);
  }, 60_000);
});

describe('TextDetector on two streams, the first of which crashes', () => {
  const streams = [new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 }), new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 })];
  const pool = new BackendPool(streams);
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it("keeps the model's identity and keeps detecting on the other stream while the first one's worker restarts", async () => {
    const detector = new TextDetector(pool, getPreset('seed'));
    const image = readBgrImage(join(FRAMES, 'dev-a/frame_000.png'), 640, 480);
    await (streams[0] as unknown as { worker: Worker }).worker.terminate();
    expect(pool.modelId).toBe(backend.modelId);
    for (let frame = 0; frame < 4; frame++) {
      const result = await detector.detect(image);
      expect(result.modelId).toBe(backend.modelId);
      expect(result.boxes.length).toBeGreaterThan(5);
    }
  }, 60_000);
});

describe('TextDetector batches (real model, real frames)', () => {
  const images = (set: string, count: number) =>
    readTextFrameSet(join(FRAMES, set))
      .slice(0, count)
      .map((frame) => readBgrImage(frame.path, frame.width, frame.height));

  it('finds in each frame of a batch exactly the boxes it finds in that frame alone', async () => {
    const detector = new TextDetector(backend, getPreset('seed'), undefined, 4);
    const frames = images('dev-a', 8);
    const batched = [...(await detector.detectBatch(frames.slice(0, 4))), ...(await detector.detectBatch(frames.slice(4, 6))), ...(await detector.detectBatch(frames.slice(6, 7)))];
    expect(batched.map((result) => result.boxes.map((box) => box.points))).toEqual(seedResults[0].ours.slice(0, 7));
    expect(batched.every((result, i) => result.width === frames[i].width && result.height === frames[i].height)).toBe(true);
  }, 60_000);

  it('batches frames of different sizes that the preset squashes to one model input, as the same frames alone', async () => {
    const detector = new TextDetector(backend, getPreset('seed'), undefined, 2);
    const [small] = images('dev-a', 1);
    const [large] = images('dev-b', 1);
    const [one, two] = await detector.detectBatch([small, large]);
    expect([one.boxes, two.boxes]).toEqual([(await seedDetector.detect(small)).boxes, (await seedDetector.detect(large)).boxes]);
    expect(two.boxes.length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses frames with different model inputs, and more frames than its batch, and still runs the next batch', async () => {
    const detector = new TextDetector(backend, getPreset('default'), undefined, 2);
    const [small] = images('dev-a', 1);
    const [large] = images('dev-b', 1);
    await expect(detector.inferBatch([small, large])).rejects.toThrow("a batch needs frames with one model input size: frame 0's is 640x480, frame 1's 960x544");
    await expect(detector.inferBatch([small, small, small])).rejects.toThrow("a batch of 3 frames is more than the detector's 2 (INFERENCE_BATCH)");
    await detector.whenReady();
    expect(await detector.detectBatch([])).toEqual([]);
  });
});

describe('TextDetector.switchModel', () => {
  it('runs the next frames on the new model and releases the old one once its last frame is out', async () => {
    const retiring = new OnnxRuntimeBackend({ modelPath: MODEL });
    const next = new OnnxRuntimeBackend({ modelPath: join(ROOT, 'models/ch_PP-OCRv4_det_infer.onnx') });
    await Promise.all([retiring.load(), next.load()]);
    const detector = new TextDetector(retiring, getPreset('seed'), MODEL);
    const image = readBgrImage(join(FRAMES, 'dev-a/frame_000.png'), 640, 480);
    const inOldModel = detector.infer(image);
    await detector.switchModel(next, getPreset('default'), 'ch_PP-OCRv4_det_infer.onnx');
    expect(retiring.modelId).toMatch(/^ch_pp_inf_dynamic@/); // still running the frame it took
    const fromOldModel = await (await inOldModel).finish();
    expect(fromOldModel.boxes.length).toBeGreaterThan(0);
    expect(fromOldModel.modelId).toMatch(/^ch_pp_inf_dynamic@/);
    // The old model is released once its last frame is out, asynchronously: wait for it rather than a fixed time.
    await eventually(() => {
      try {
        void retiring.modelId;
        return undefined;
      } catch (error) {
        return error as Error;
      }
    }, 'the old model released');
    expect(() => retiring.modelId).toThrow(/load\(\) has not completed/);
    expect(detector.backend.modelId).toMatch(/^ch_PP-OCRv4_det_infer@/);
    expect(detector.modelPath).toBe('ch_PP-OCRv4_det_infer.onnx');
    expect(await detector.detect(image)).toMatchObject({ modelId: expect.stringMatching(/^ch_PP-OCRv4_det_infer@/), boxes: expect.arrayContaining([expect.anything()]) });
    await next.dispose();
  }, 60_000);
});
