import { readBgrImage } from '@iev/testing';
import { join } from 'node:path';
import { BackendPool, OnnxRuntimeBackend, type FrameBoxes, type ImageDetectionRun, type InferenceBackend, type TensorData } from '@iev/inference-backends';
import { getPreset, type ImageView } from '@iev/text-detection';
import { InOrderDetections, type ChainedFrame, type FrameDetections } from './in-order-detections';
import { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');

/** A run the test ends by hand: with a probability map lit where it says, or with an error. */
interface HandRun {
  /** One block per frame of the run's batch (a single one lights every frame's map). */
  finish(...hot: Array<{ left: number; top: number }>): void;
  fail(error: Error): void;
}

/** What the hand-driven backends share: `concurrency` streams, a made-up model, nothing to load or free. */
abstract class HandBackend implements InferenceBackend {
  abstract readonly name: string;
  readonly modelSha256 = '0'.repeat(64);

  constructor(readonly concurrency: number) {}

  get modelId(): string {
    return `${this.name}@00000000`;
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }

  abstract run(input: TensorData): Promise<TensorData>;
}

/** A backend whose runs resolve when the test says, in any order. */
class HandRunBackend extends HandBackend {
  readonly name = 'hand-run';
  readonly runs: HandRun[] = [];

  run(input: TensorData): Promise<TensorData> {
    const [batch] = input.dims;
    const [height, width] = input.dims.slice(-2);
    return new Promise((resolve, reject) =>
      this.runs.push({
        // A 16x8 block of text-like probability at (left, top): the real postprocessor finds one box there.
        finish: (...hot) => {
          const map = new Float32Array(batch * height * width);
          for (let frame = 0; frame < batch; frame++) {
            const { left, top } = hot[Math.min(frame, hot.length - 1)];
            for (let y = top; y < top + 8; y++) map.fill(0.9, (frame * height + y) * width + left, (frame * height + y) * width + left + 16);
          }
          resolve({ data: map, dims: [batch, 1, height, width] });
        },
        fail: reject,
      }),
    );
  }
}

/** A detection the test ends by hand in two steps, as the ONNX Runtime worker does: the model is done, then the boxes. */
interface HandDetection {
  ran(): void;
  /** Each frame of the batch gets one box with its left edge there. */
  boxes(...leftEdges: number[]): void;
  failBoxes(error: Error): void;
}

/** A backend that detects where its model runs (detectImages), each step when the test says. */
class HandDetectBackend extends HandBackend {
  readonly name = 'hand-detect';
  readonly detections: HandDetection[] = [];

  run(): Promise<TensorData> {
    return Promise.reject(new Error('hand-detect only detects'));
  }

  detectImages(images: readonly ImageView[]): Promise<ImageDetectionRun> {
    return new Promise((ran) => {
      let boxes!: (frames: FrameBoxes[]) => void;
      let failBoxes!: (error: Error) => void;
      const frames = new Promise<FrameBoxes[]>((resolve, reject) => ((boxes = resolve), (failBoxes = reject)));
      this.detections.push({
        ran: () => ran({ preprocessMs: 1, inferenceMs: 30, frames }),
        boxes: (...leftEdges) =>
          boxes(images.map((_, i) => ({ boxes: [{ points: [[leftEdges[i], 0], [leftEdges[i] + 10, 0], [leftEdges[i] + 10, 5], [leftEdges[i], 5]], score: 0.9 }], postprocessMs: 1 }))),
        failBoxes,
      });
    });
  }
}

const IMAGE: ImageView = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, stride: 64 * 3 };
const frame = (sequence: number, image = IMAGE): ChainedFrame => ({ sourceId: 'camera0', sequence, captureTimeMs: 1000 + sequence, image });

/** Lets pending callbacks, immediates included, run. */
const turns = async (count = 5) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Whether a promise has settled after a few turns of the event loop. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await turns();
  return settled;
}

function chainOn(backend: InferenceBackend, publish: (frame: ChainedFrame, detections: FrameDetections) => Promise<void> = async () => undefined, maxBatch = 1) {
  const published: Array<{ sequence: number; detections: FrameDetections }> = [];
  const dropped: number[] = [];
  const errors: string[] = [];
  const done: number[] = [];
  const detector = new TextDetector(backend, getPreset('default'), undefined, maxBatch);
  const chain = new InOrderDetections({
    detector,
    reader: () => undefined,
    publish: async (frame, detections) => {
      await publish(frame, detections);
      published.push({ sequence: frame.sequence, detections });
    },
    dropped: (frame) => dropped.push(frame.sequence),
    done: (frame) => done.push(frame.sequence),
    log: { error: (_context, message) => errors.push(message) },
  });
  return { chain, detector, published, dropped, errors, done };
}

describe('InOrderDetections (a backend whose runs the test resolves)', () => {
  it('publishes frames in the order they came, each with its own boxes, when frame 2 leaves the model before frame 1', async () => {
    const backend = new HandRunBackend(2);
    const { chain, published } = chainOn(backend);
    await chain.push(frame(1)); // a stream is still free
    const second = chain.push(frame(2));
    expect(await isSettled(second)).toBe(false); // both streams busy
    backend.runs[1].finish({ left: 40, top: 40 });
    await second;
    await turns();
    expect(published).toEqual([]); // frame 2 is done, but frame 1 is not out yet
    backend.runs[0].finish({ left: 8, top: 8 });
    await chain.drain();
    expect(published.map(({ sequence }) => sequence)).toEqual([1, 2]);
    // Each frame's own map: the box around its lit block (postprocessed for real), not its neighbour's.
    const leftEdges = published.map(({ detections }) => detections.boxes.map((box) => box.points[0][0]));
    expect(leftEdges).toHaveLength(2);
    expect(leftEdges[0]).toHaveLength(1);
    expect(leftEdges[1]).toHaveLength(1);
    expect(leftEdges[0][0]).toBeLessThan(16);
    expect(leftEdges[1][0]).toBeGreaterThan(32);
    expect(published[0].detections.timings.postprocessMs).toBeGreaterThan(0);
  });

  it('runs a batch through the model once and publishes each of its frames in turn with its own boxes', async () => {
    const backend = new HandRunBackend(1);
    const { chain, published } = chainOn(backend, undefined, 2);
    const pushing = chain.pushBatch([frame(1), frame(2)]);
    expect(backend.runs).toHaveLength(1);
    backend.runs[0].finish({ left: 8, top: 8 }, { left: 40, top: 40 });
    await pushing;
    await chain.drain();
    expect(published.map(({ sequence }) => sequence)).toEqual([1, 2]);
    const leftEdges = published.map(({ detections }) => detections.boxes.map((box) => box.points[0][0]));
    expect(leftEdges[0][0]).toBeLessThan(16);
    expect(leftEdges[1][0]).toBeGreaterThan(32);
  });

  it('drops every frame of a batch the model fails on, and publishes the next', async () => {
    const backend = new HandRunBackend(1);
    const { chain, published, dropped } = chainOn(backend, undefined, 2);
    await Promise.all([chain.pushBatch([frame(1), frame(2)]), backend.runs[0].fail(new Error('out of memory'))]);
    await Promise.all([chain.push(frame(3)), backend.runs[1].finish({ left: 8, top: 8 })]);
    await chain.drain();
    expect(dropped).toEqual([1, 2]);
    expect(published.map(({ sequence }) => sequence)).toEqual([3]);
    expect(chain.failures).toEqual({ inference: 2, publish: 0 });
  });

  it('goes on publishing when a callback throws for a frame, and logs it', async () => {
    const backend = new HandRunBackend(1);
    const published: number[] = [];
    const errors: string[] = [];
    const chain = new InOrderDetections({
      detector: new TextDetector(backend, getPreset('default')),
      reader: () => undefined,
      publish: async ({ sequence }) => void published.push(sequence),
      dropped: () => {
        throw new Error('metrics are gone');
      },
      done: ({ sequence }) => {
        if (sequence === 2) throw new Error('pixels already released');
      },
      log: { error: (_context, message) => errors.push(message) },
    });
    await Promise.all([chain.push(frame(1)), backend.runs[0].fail(new Error('out of memory'))]);
    await Promise.all([chain.push(frame(2)), backend.runs[1].finish({ left: 8, top: 8 })]);
    await Promise.all([chain.push(frame(3)), backend.runs[2].finish({ left: 8, top: 8 })]);
    await chain.drain();
    expect(published).toEqual([2, 3]);
    expect(errors).toEqual([
      "the chain's dropped callback failed: metrics are gone",
      'frame dropped: inference failed: out of memory',
      "the chain's done callback failed: pixels already released",
    ]);
  });

  it("lends a stream to the reader when a run ends, ahead of the next frame, and takes no frame in it until it is given back", async () => {
    const backend = new HandRunBackend(2);
    const { chain, detector } = chainOn(backend);
    await chain.push(frame(1));
    const second = chain.push(frame(2));
    const loan = detector.lendStream();
    expect(await isSettled(loan)).toBe(false); // both streams busy
    backend.runs[0].finish({ left: 8, top: 8 });
    const giveBack = await loan;
    expect(await isSettled(second)).toBe(false); // the freed stream is the reader's: no frame is asked for
    giveBack();
    await second;
    expect(backend.runs).toHaveLength(2); // the reader's model is its own: only frames ran here
    backend.runs[1].finish({ left: 8, top: 8 });
    await chain.drain();
  });

  it('lends a stream at once while no frame is in the model; a frame may take the other, and no more until it is given back', async () => {
    const backend = new HandRunBackend(2);
    const { chain, detector } = chainOn(backend);
    const giveBack = await detector.lendStream();
    const first = chain.push(frame(1));
    expect(backend.runs).toHaveLength(1);
    expect(await isSettled(first)).toBe(false);
    giveBack();
    giveBack(); // giving back twice frees one stream, not two
    await first;
    const second = chain.push(frame(2));
    expect(await isSettled(second)).toBe(false); // both streams busy with frames
    backend.runs[0].finish({ left: 8, top: 8 });
    await second;
    backend.runs[1].finish({ left: 8, top: 8 });
    await chain.drain();
  });

  it('drops a frame the model fails on, counts and logs it, and publishes the next', async () => {
    const backend = new HandRunBackend(1);
    const { chain, published, dropped, errors } = chainOn(backend);
    await Promise.all([chain.push(frame(1)), backend.runs[0].fail(new Error('out of memory'))]);
    await Promise.all([chain.push(frame(2)), backend.runs[1].finish({ left: 8, top: 8 })]);
    await chain.drain();
    expect(dropped).toEqual([1]);
    expect(errors).toEqual(['frame dropped: inference failed: out of memory']);
    expect(published.map(({ sequence }) => sequence)).toEqual([2]);
    expect(chain.failures).toEqual({ inference: 1, publish: 0 });
  });

  it('lets each frame go only after its detections are out, or it was dropped, or its publish failed', async () => {
    const backend = new HandRunBackend(2);
    let publishes = 0;
    const { chain, done } = chainOn(backend, async () => {
      if (++publishes === 2) throw new Error('socket closed');
    });
    await chain.push(frame(1));
    const second = chain.push(frame(2));
    backend.runs[1].finish({ left: 8, top: 8 });
    await second;
    await turns();
    expect(done).toEqual([]); // frame 2 is out of the model but waits for frame 1's publish, pixels and all
    backend.runs[0].finish({ left: 8, top: 8 });
    await Promise.all([chain.push(frame(3)), backend.runs[2].fail(new Error('out of memory'))]);
    await chain.drain();
    expect(done).toEqual([1, 2, 3]);
  });

  it('counts and logs a failed publish, and publishes the next frame', async () => {
    const backend = new HandRunBackend(1);
    let publishes = 0;
    const { chain, published, errors } = chainOn(backend, async () => {
      if (++publishes === 1) throw new Error('socket closed');
    });
    await Promise.all([chain.push(frame(1)), backend.runs[0].finish({ left: 8, top: 8 })]);
    await Promise.all([chain.push(frame(2)), backend.runs[1].finish({ left: 8, top: 8 })]);
    await chain.drain();
    expect(errors).toEqual(['failed to publish detections: socket closed']);
    expect(published.map(({ sequence }) => sequence)).toEqual([2]);
    expect(chain.failures).toEqual({ inference: 0, publish: 1 });
  });

  it('holds at most one frame more than there are streams: push() waits while publishing lags', async () => {
    const backend = new HandRunBackend(2);
    const releases: Array<() => void> = [];
    const { chain, published } = chainOn(backend, () => new Promise<void>((resolve) => releases.push(resolve)));
    await chain.push(frame(1));
    const second = chain.push(frame(2));
    backend.runs[0].finish({ left: 8, top: 8 });
    await second; // frame 1 left the model and is being published
    const third = chain.push(frame(3));
    expect(await isSettled(third)).toBe(false); // both streams busy
    backend.runs[1].finish({ left: 8, top: 8 });
    await turns();
    // A stream is free, but frame 1 is still being published: three frames in the chain, the most it holds.
    expect(chain.inChain).toBe(3);
    expect(await isSettled(third)).toBe(false);
    releases[0]();
    await third;
    expect(published.map(({ sequence }) => sequence)).toEqual([1]);
    expect(chain.inChain).toBe(2);
    backend.runs[2].finish({ left: 8, top: 8 });
    for (let i = 1; i < 3; i++) {
      await turns();
      releases[i]();
    }
    await chain.drain();
    expect(published.map(({ sequence }) => sequence)).toEqual([1, 2, 3]);
  });

  it("drain() waits for the last frame's publish, including frames pushed while it waits", async () => {
    const backend = new HandRunBackend(2);
    const releases: Array<() => void> = [];
    const { chain, published } = chainOn(backend, () => new Promise<void>((resolve) => releases.push(resolve)));
    await chain.push(frame(1));
    const drained = chain.drain();
    const second = chain.push(frame(2));
    backend.runs[0].finish({ left: 8, top: 8 });
    backend.runs[1].finish({ left: 8, top: 8 });
    await second;
    await turns();
    releases[0]();
    expect(await isSettled(drained)).toBe(false);
    releases[1]();
    await drained;
    expect(published.map(({ sequence }) => sequence)).toEqual([1, 2]);
    expect(chain.inChain).toBe(0);
  });
});

describe('InOrderDetections (a backend that makes the boxes where its model runs, after it is done)', () => {
  const leftEdgesOf = (published: Array<{ detections: FrameDetections }>) => published.map(({ detections }) => detections.boxes.map((box) => box.points[0][0]));

  it('takes the next frame once the model is done with one, before its boxes, and publishes in order when frame 2 has its boxes first', async () => {
    const backend = new HandDetectBackend(1);
    const { chain, published } = chainOn(backend);
    const first = chain.push(frame(1));
    expect(await isSettled(first)).toBe(false); // the only stream is in the model
    backend.detections[0].ran();
    await first; // the stream is free though frame 1 has no boxes yet
    const second = chain.push(frame(2));
    expect(backend.detections).toHaveLength(2);
    backend.detections[1].ran();
    backend.detections[1].boxes(40);
    await turns();
    expect(published).toEqual([]); // frame 2 has its boxes, but frame 1 is not out yet
    backend.detections[0].boxes(8);
    await second;
    await chain.drain();
    expect(published.map(({ sequence }) => sequence)).toEqual([1, 2]);
    expect(leftEdgesOf(published)).toEqual([[8], [40]]);
    expect(published[0].detections.timings).toMatchObject({ preprocessMs: 1, inferenceMs: 30, postprocessMs: 1 });
  });

  it('gives each frame of a batch its own boxes', async () => {
    const backend = new HandDetectBackend(1);
    const { chain, published } = chainOn(backend, undefined, 2);
    await Promise.all([chain.pushBatch([frame(1), frame(2)]), backend.detections[0].ran()]);
    backend.detections[0].boxes(8, 40);
    await chain.drain();
    expect(leftEdgesOf(published)).toEqual([[8], [40]]);
  });

  it('drops a frame whose boxes failed, counts and logs it, and publishes the next', async () => {
    const backend = new HandDetectBackend(1);
    const { chain, published, dropped, errors } = chainOn(backend);
    await Promise.all([chain.push(frame(1)), backend.detections[0].ran()]);
    const second = chain.push(frame(2));
    backend.detections[1].ran();
    backend.detections[0].failBoxes(new Error('postprocessing failed: bad settings'));
    backend.detections[1].boxes(8);
    await second;
    await chain.drain();
    expect(dropped).toEqual([1]);
    expect(errors).toEqual(['frame dropped: inference failed: postprocessing failed: bad settings']);
    expect(published.map(({ sequence }) => sequence)).toEqual([2]);
    expect(chain.failures).toEqual({ inference: 1, publish: 0 });
  });
});

describe('InOrderDetections on two streams of the real model', () => {
  const model = join(ROOT, 'models', getPreset('default').modelFile);
  const pool = new BackendPool([new OnnxRuntimeBackend({ modelPath: model, intraOpThreads: 1 }), new OnnxRuntimeBackend({ modelPath: model, intraOpThreads: 1 })]);
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it('publishes every frame, in order, with the boxes the detector finds on it alone', async () => {
    const detector = new TextDetector(pool, getPreset('default'));
    const images = [0, 1, 2, 3].map((i) => readBgrImage(join(ROOT, `testdata/text-frames/dev-a/frame_00${i}.png`), 640, 480));
    const published: Array<{ sequence: number; detections: FrameDetections }> = [];
    const errors: string[] = [];
    const chain = new InOrderDetections({
      detector,
      reader: () => undefined,
      publish: async (frame, detections) => void published.push({ sequence: frame.sequence, detections }),
      log: { error: (_context, message) => errors.push(message) },
    });
    for (const [i, image] of images.entries()) await chain.push(frame(i, image));
    await chain.drain();
    expect(errors).toEqual([]);
    expect(published.map(({ sequence }) => sequence)).toEqual([0, 1, 2, 3]);
    for (const [i, image] of images.entries()) expect(published[i].detections.boxes).toEqual((await detector.detect(image)).boxes);
    expect(published.some(({ detections }) => detections.boxes.length > 0)).toBe(true);
  }, 60_000);
});
