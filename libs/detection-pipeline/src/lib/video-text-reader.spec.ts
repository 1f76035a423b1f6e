import { readBgrImage } from '@iev/testing';
import { join } from 'node:path';
import type { DetectedBox } from '@iev/frame-protocol';
import type { InferenceBackend, TensorData } from '@iev/inference-backends';
import { getPreset, readTextFrameSet, type ImageView } from '@iev/text-detection';
import { CharacterSet, normalizeText } from '@iev/text-recognition';
import { InFlightTimes } from './in-flight-times';
import { TextDetector } from './text-detector';
import { TextRecognizer } from './text-recognizer';
import { loadVideoTextReader, VideoTextReader, type ReadBatch } from './video-text-reader';

const ROOT = join(__dirname, '../../../..');
const MODEL_FILES = { modelPath: join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'), dictionaryPath: join(ROOT, 'models/ppocr_keys_v1.txt') };

/** `image` with the pixels of box `from` copied over box `to` (same size, top-left aligned): `to` now shows other text. */
function pasteLine(image: ImageView, from: DetectedBox, to: DetectedBox): ImageView {
  const data = Uint8Array.from(image.data);
  const [fx, fy] = from.points[0];
  const [tx, ty] = to.points[0];
  const width = Math.min(from.points[2][0] - fx, to.points[2][0] - tx);
  const height = Math.min(from.points[2][1] - fy, to.points[2][1] - ty);
  for (let y = 0; y < height; y++) data.set(image.data.subarray((fy + y) * image.stride + fx * 3, (fy + y) * image.stride + (fx + width) * 3), (ty + y) * image.stride + tx * 3);
  return { ...image, data };
}

jest.setTimeout(60_000);

/** A line is read in the frame it first appears (the tracker's confirmFrames is tested in line-tracker.spec). */
const AT_ONCE = { confirmFrames: 1 };

describe('VideoTextReader (real recognition model)', () => {
  const [frame] = readTextFrameSet(join(ROOT, 'testdata/text-frames/dev-b'));
  const image = readBgrImage(frame.path, frame.width, frame.height);
  const boxes: DetectedBox[] = frame.truth.map((quad) => ({ points: quad.map(([x, y]) => [Math.round(x), Math.round(y)]) as DetectedBox['points'], score: 0.9 }));
  let recognizer: TextRecognizer;
  beforeAll(async () => {
    recognizer = await TextRecognizer.load({ ...MODEL_FILES, threads: 1 });
  });
  afterAll(() => recognizer.dispose());

  it('reads each line once, in the background, and carries its text through the next frames of the source', async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE });
    const first = await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    // Sent to the model; the frame itself goes on at once, its boxes without text yet.
    expect(first).toMatchObject({ read: boxes.length, carried: 0, boxes });
    await reader.idle();

    const second = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });
    expect(second).toMatchObject({ read: 0, carried: boxes.length });
    expect(second.boxes.map((box) => normalizeText(box.text ?? ''))).toEqual(frame.texts?.map(normalizeText));
    for (const timeMs of [66, 100]) {
      const next = await reader.read({ sourceId: 'camera0', timeMs, image, boxes });
      expect(next).toMatchObject({ read: 0, carried: boxes.length });
      expect(next.boxes).toEqual(second.boxes);
    }
    // Each box names its line, the same in every frame it is followed in, and no other line's.
    const lineIds = first.boxes.map((box) => box.lineId);
    expect(second.boxes.map((box) => box.lineId)).toEqual(lineIds);
    expect(new Set(lineIds).size).toBe(boxes.length);
    // Another source's frame is its own video: its lines are read afresh, under ids of their own.
    const other = await reader.read({ sourceId: 'camera1', timeMs: 100, image, boxes });
    expect(other).toMatchObject({ read: boxes.length, carried: 0 });
    expect(other.boxes.filter((box) => lineIds.includes(box.lineId))).toEqual([]);
    await reader.idle();
  });

  it("keeps a source's lines while another source's frames carry a clock minutes ahead (captures on other hosts)", async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE });
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    await reader.read({ sourceId: 'camera1', timeMs: 600_000, image, boxes });
    expect(await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes })).toMatchObject({ read: 0, carried: boxes.length });
    await reader.idle();
  });

  it('counts and reports a batch that fails, and the frame goes on with those lines unread', async () => {
    const broken = await TextRecognizer.load({ ...MODEL_FILES, threads: 1 });
    await broken.dispose(); // its model is gone: every batch fails
    const failures: Array<{ message: string; lines: number }> = [];
    const reader = new VideoTextReader(broken, { minScore: 0.5, tracking: AT_ONCE, onBatchFailed: (error, lines) => failures.push({ message: error.message, lines }) });

    const first = await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    const second = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });

    expect(first.read).toBe(boxes.length);
    expect(reader.failedBatches).toBe(1);
    expect(failures).toEqual([{ message: expect.any(String), lines: boxes.length }]);
    expect(second.boxes.every((box) => box.text === undefined)).toBe(true);
  });

  it('reads a line again when its text changes in place, and only that line, a rereadMs after its last read', async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: { ...AT_ONCE, rereadMs: 1000 } });
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    const before = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });
    // "Receiving" now shows the start of "Warehouse B" (both upright, so a plain copy moves it).
    const changed = pasteLine(image, boxes[2], boxes[0]);
    expect((await reader.read({ sourceId: 'camera0', timeMs: 66, image: changed, boxes })).read).toBe(0);
    const asked = await reader.read({ sourceId: 'camera0', timeMs: 1000, image: changed, boxes });
    expect(asked.read).toBe(1);
    expect(asked.boxes).toEqual(before.boxes); // the old text stands until the new read is in
    await reader.idle();
    const after = await reader.read({ sourceId: 'camera0', timeMs: 1033, image: changed, boxes });
    expect(after.read).toBe(0);
    expect(after.boxes[0].text).not.toBe(before.boxes[0].text);
    expect(after.boxes.slice(1)).toEqual(before.boxes.slice(1));
  });

  it('keeps a line read well before in its place, with its lineId and without text, while its re-read scores below minScore', async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: { ...AT_ONCE, rereadMs: 1000 } });
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    const before = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });
    expect(before.boxes).toHaveLength(boxes.length);
    // "Receiving" painted over flat grey: no character to read, a score of 0.
    const data = Uint8Array.from(image.data);
    const [[x0, y0], , [x1, y1]] = boxes[0].points;
    for (let y = y0; y < y1; y++) data.fill(128, y * image.stride + x0 * 3, y * image.stride + x1 * 3);
    const blank = { ...image, data };
    await reader.read({ sourceId: 'camera0', timeMs: 66, image: blank, boxes });
    expect((await reader.read({ sourceId: 'camera0', timeMs: 1000, image: blank, boxes })).read).toBe(1);
    await reader.idle();
    const after = await reader.read({ sourceId: 'camera0', timeMs: 1033, image: blank, boxes });
    expect(after.dropped).toBe(0);
    expect(after.boxes[0]).toEqual({ ...boxes[0], lineId: before.boxes[0].lineId });
    expect(after.boxes.slice(1)).toEqual(before.boxes.slice(1));
  });

  // Telemetry's events say such a line gone, and appeared again when it comes back (libs/telemetry-sinks text-events).
  it('leaves out a line whose best read is below a minScore raised live, and follows it still: back under its id once the minimum allows its read', async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE });
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    const before = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });
    expect(before.boxes).toHaveLength(boxes.length);

    reader.minScore = Math.max(...before.boxes.map((box) => box.textScore ?? 0)) + 1e-6;
    expect(await reader.read({ sourceId: 'camera0', timeMs: 66, image, boxes })).toMatchObject({ boxes: [], dropped: boxes.length, read: 0 });
    reader.minScore = 0.5;
    expect(await reader.read({ sourceId: 'camera0', timeMs: 100, image, boxes })).toMatchObject({ boxes: before.boxes, read: 0 });
  });

  // Telemetry says a stalled camera's lines gone TELEMETRY_TEXT_GONE_MS after its last frame: its frames back within
  // the minute an idle source keeps its tracker, they come back under those ids (text-appeared again, README).
  it("follows a source's lines through a stall of its frames shorter than a minute: back under their ids, texts carried", async () => {
    const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE });
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.idle();
    const before = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });

    const after = await reader.read({ sourceId: 'camera0', timeMs: 10_033, image, boxes });
    expect(after.boxes.map((box) => box.lineId)).toEqual(before.boxes.map((box) => box.lineId));
    expect(after).toMatchObject({ carried: boxes.length });
    await reader.idle();
  });

  it('sends one batch to the model at a time, fills the next meanwhile, and rests as long as each took', async () => {
    const runs: Array<{ lines: number; startMs: number; endMs: number }> = [];
    const readCrops = recognizer.readCrops.bind(recognizer);
    const spy = jest.spyOn(recognizer, 'readCrops').mockImplementation(async (crops) => {
      const startMs = performance.now();
      const reads = await readCrops(crops);
      runs.push({ lines: crops.length, startMs, endMs: performance.now() });
      return reads;
    });
    try {
      const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE });
      // Seven lines (the first twice): a batch of six goes to the model, the seventh is cut from the next frame.
      const seven = [...boxes, boxes[0]];
      expect((await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes: seven })).read).toBe(6);
      expect((await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes: seven })).read).toBe(1);
      expect((await reader.read({ sourceId: 'camera0', timeMs: 66, image, boxes: seven })).read).toBe(0);
      await reader.idle();
      expect(runs.map(({ lines }) => lines)).toEqual([6, 1]);
      const [first, second] = runs;
      expect(second.startMs - first.endMs).toBeGreaterThanOrEqual(first.endMs - first.startMs - 2);
      expect((await reader.read({ sourceId: 'camera0', timeMs: 100, image, boxes: seven })).carried).toBe(7);
    } finally {
      spy.mockRestore();
    }
  });

  it("reads a batch in one of detection's streams' turns where they share the cores, and gives the stream back after it", async () => {
    const readCrops = jest.spyOn(recognizer, 'readCrops');
    const events: string[] = [];
    let lend: () => void = () => undefined;
    const detectionStreams = {
      lendStream: () => new Promise<() => void>((resolve) => (lend = () => resolve(() => events.push('given back')))),
    };
    try {
      const reader = new VideoTextReader(recognizer, { minScore: 0.5, tracking: AT_ONCE, detectionStreams });
      expect((await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes })).read).toBe(boxes.length);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(readCrops).not.toHaveBeenCalled(); // no stream lent yet
      lend();
      await reader.idle();
      expect(readCrops).toHaveBeenCalledTimes(1);
      expect(events).toEqual(['given back']);
      const next = await reader.read({ sourceId: 'camera0', timeMs: 33, image, boxes });
      expect(next.boxes.map((box) => normalizeText(box.text ?? ''))).toEqual(frame.texts?.map(normalizeText));
    } finally {
      readCrops.mockRestore();
    }
  });

  it('takes turns with a detector on the CPU (loadVideoTextReader), not with one on a GPU', async () => {
    for (const runsOnCpu of [true, undefined]) {
      const detector = { backend: { runsOnCpu } as InferenceBackend, lendStream: jest.fn(async () => () => undefined) };
      const loaded = await loadVideoTextReader({ ...MODEL_FILES, threads: 1, minScore: 0.5, refreshMs: 5000, confirmFrames: 1, detector });
      await loaded.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
      await loaded.dispose();
      expect(detector.lendStream).toHaveBeenCalledTimes(runsOnCpu ? 1 : 0);
    }
  });

  it('reads several sources in one batch, each its fair share while the reader is busy, and hands each its own reads', async () => {
    const batches: Array<{ lines: number; sources: number; reasons: string[] }> = [];
    const reader = new VideoTextReader(recognizer, { minScore: 0, tracking: AT_ONCE, onBatchRead: ({ reasons, sources }) => batches.push({ lines: reasons.length, sources, reasons }) });
    const [, , gate, station] = readTextFrameSet(join(ROOT, 'testdata/text-frames/dev-b'));
    const sources = { camera1: station, camera2: gate };
    const frameOf = (sourceId: keyof typeof sources, timeMs: number) => {
      const { path, width, height, truth } = sources[sourceId];
      const quads = truth.map((quad) => ({ points: quad.map(([x, y]) => [Math.round(x), Math.round(y)]) as DetectedBox['points'], score: 0.9 }));
      return { sourceId, timeMs, image: readBgrImage(path, width, height), boxes: quads };
    };
    // Three sources known; camera0's six lines find the reader free and go at once.
    for (const sourceId of ['camera1', 'camera2']) await reader.read({ sourceId, timeMs: 0, image, boxes: [] });
    expect((await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes })).read).toBe(6);
    // While they are read, the others fill the next batch, two lines each (six over three sources).
    expect((await reader.read(frameOf('camera1', 0))).read).toBe(2);
    expect((await reader.read(frameOf('camera2', 0))).read).toBe(2);
    expect((await reader.read(frameOf('camera1', 33))).read).toBe(0);
    await reader.idle();
    expect(batches).toEqual([
      { lines: 6, sources: 1, reasons: Array(6).fill('new') },
      { lines: 4, sources: 2, reasons: Array(4).fill('new') },
    ]);
    for (const sourceId of ['camera1', 'camera2'] as const) {
      expect((await reader.read(frameOf(sourceId, 66))).read).toBe(2);
      await reader.idle();
    }
    for (const sourceId of ['camera1', 'camera2'] as const) {
      const reading = await reader.read(frameOf(sourceId, 100));
      expect(reading).toMatchObject({ read: 0, carried: sources[sourceId].truth.length });
      expect(reading.boxes.map((box) => normalizeText(box.text ?? ''))).toEqual(sources[sourceId].texts?.map(normalizeText));
    }
  });

  it('leaves out lines read below minScore and reads every box when tracking is off', async () => {
    const strict = new VideoTextReader(recognizer, { minScore: 1, tracking: false });
    const reading = await strict.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    expect(reading).toMatchObject({ read: boxes.length, boxes: [], dropped: boxes.length });
    expect((await strict.read({ sourceId: 'camera0', timeMs: 33, image, boxes })).read).toBe(boxes.length);
  });
});

describe('VideoTextReader: a recognition model run that never returns', () => {
  afterEach(() => jest.useRealTimers());
  const characters = CharacterSet.fromFile(MODEL_FILES.dictionaryPath);
  const image = { data: Uint8Array.from({ length: 160 * 48 * 3 }, (_, i) => (i * 37) % 251), width: 160, height: 48, stride: 160 * 3 };
  const quad = (x: number): DetectedBox => ({ points: [[x, 8], [x + 70, 8], [x + 70, 36], [x, 36]], score: 0.9 });
  const boxes = [quad(4), quad(84)];
  /** The recognition model's output for its input: every class alike at each of its time steps. */
  const recognitionOutput = ({ dims: [rows, , , width] }: TensorData): TensorData => {
    const classes = characters.classCount + 1;
    const steps = Math.ceil(width / 8);
    return { data: new Float32Array(rows * steps * classes).fill(1 / classes), dims: [rows, steps, classes] };
  };

  /**
   * A model stand-in whose run number `hangAt` returns only after `hangMs` (never by default: a native call stuck),
   * the others `runMs` long (or as long as `runMs` says of each run number); output made from its input's dims.
   */
  function standIn(runMs: number | ((run: number) => number), hangAt: number, output: (input: TensorData) => TensorData, hangMs = Number.POSITIVE_INFINITY) {
    const model = { runs: 0, hungSince: undefined as number | undefined, runStarts: [] as number[], runEnds: [] as number[] };
    const ended = (input: TensorData) => {
      model.runEnds.push(performance.now());
      return output(input);
    };
    const backend: InferenceBackend = {
      name: 'stand-in',
      modelId: 'stand-in',
      modelSha256: '0'.repeat(64),
      runsOnCpu: true,
      load: async () => undefined,
      dispose: async () => undefined,
      run: (input) => {
        model.runStarts.push(performance.now());
        if (++model.runs === hangAt) {
          model.hungSince = performance.now();
          return new Promise<TensorData>((resolve) => Number.isFinite(hangMs) && setTimeout(() => resolve(ended(input)), hangMs));
        }
        const ms = typeof runMs === 'number' ? runMs : runMs(model.runs);
        return new Promise<TensorData>((resolve) => setTimeout(() => resolve(ended(input)), ms));
      },
    };
    return { model, backend };
  }

  /**
   * The real reader on a real TextRecognizer whose model's run `hangAt` never returns (`recognitionHangsAt`, each
   * other run `batchMs`), fed each of `sources` cameras' frame as detection is done with it: with `streams`
   * detection streams on the CPU (a real TextDetector, each run `detectMs`, lending the reader a stream where
   * `lent`), or, without, a frame of each every 100 ms (a GPU). Checks the batches' times once a second, as
   * inference's metrics do, for `seconds`.
   */
  async function readFor(
    seconds: number,
    setup: { lent: boolean; streams: number; sources: number; batchMs: number | ((run: number) => number); detectMs: number; recognitionHangsAt?: number; recognitionHangMs?: number; detectionHangsAt?: number },
  ) {
    jest.useFakeTimers();
    const recognition = standIn(setup.batchMs, setup.recognitionHangsAt ?? 0, recognitionOutput, setup.recognitionHangMs);
    const detection = standIn(setup.detectMs, setup.detectionHangsAt ?? 0, ({ dims: [, , height, width] }) => ({ data: new Float32Array(height * width), dims: [1, 1, height, width] }));
    const detector = new TextDetector({ ...detection.backend, concurrency: setup.streams }, getPreset('default'));
    const batchTimes = new InFlightTimes<ReadBatch>();
    const reader = new VideoTextReader(new TextRecognizer(recognition.backend, characters), {
      minScore: 0,
      tracking: { confirmFrames: 1, refreshMs: 100, refreshMaxMs: 100 },
      batchTimes,
      ...(setup.lent && { detectionStreams: detector }),
    });
    const frameOf = (source: number) => ({ sourceId: `camera${source}`, timeMs: performance.now(), image, boxes });
    let running = true;
    if (setup.lent) {
      void (async () => {
        for (let frame = 0; running; frame++) {
          await detector.whenReady();
          void detector
            .infer(image)
            .then((inferred) => inferred.finish())
            .then(() => reader.read(frameOf(frame % setup.sources)));
        }
      })();
    } else {
      const frames = setInterval(() => {
        for (let source = 0; source < setup.sources; source++) void reader.read(frameOf(source));
      }, 100);
      frames.unref();
    }
    let toldAt: number | undefined;
    const told: Array<{ lines: number; sources: number }> = [];
    const checks = setInterval(() => {
      const stuck = batchTimes.stuck();
      if (stuck && toldAt === undefined) {
        toldAt = performance.now();
        told.push({ lines: stuck.key.reasons.length, sources: stuck.key.sources });
      }
    }, 1000);
    await jest.advanceTimersByTimeAsync(seconds * 1000);
    running = false;
    clearInterval(checks);
    const { hungSince } = recognition.model;
    return { runs: recognition.model.runs, runStarts: recognition.model.runStarts, runEnds: recognition.model.runEnds, hungSince, told, afterHangS: toldAt !== undefined && hungSince !== undefined ? Math.ceil((toldAt - hungSince) / 1000) : undefined, oldest: batchTimes.oldest() };
  }

  // Without a lent stream (a GPU) reading stops with no sign, detection going on; with one stream lent, detection stops
  // too (the loan is never given back), frames in no stage; with two, detection goes on with the other.
  it.each([
    { lent: false, streams: 0, sources: 1, batchMs: 300, detectMs: 0 },
    { lent: false, streams: 0, sources: 3, batchMs: 300, detectMs: 0 },
    { lent: true, streams: 1, sources: 1, batchMs: 300, detectMs: 100 },
    { lent: true, streams: 1, sources: 3, batchMs: 300, detectMs: 100 },
    { lent: true, streams: 2, sources: 3, batchMs: 300, detectMs: 100 },
  ])('takes the hung batch for stuck 61 s after its run began, whichever run hangs (%j)', async (setup) => {
    for (const recognitionHangsAt of [1, 2, 3, 6, 11]) {
      const { runs, afterHangS, told } = await readFor(recognitionHangsAt * 1.5 + 75, { ...setup, recognitionHangsAt });
      expect({ recognitionHangsAt, runs: runs >= recognitionHangsAt, afterHangS, told: told.length }).toEqual({ recognitionHangsAt, runs: true, afterHangS: 61, told: 1 });
    }
  });

  it('tells nothing of a slow reader that moves: each batch 2 s, for five minutes', async () => {
    for (const setup of [
      { lent: false, streams: 0, sources: 3, batchMs: 2000, detectMs: 0 },
      { lent: true, streams: 1, sources: 3, batchMs: 2000, detectMs: 1000 },
    ]) {
      const { runs, told } = await readFor(300, setup);
      expect({ runs: runs > 50, told }).toEqual({ runs: true, told: [] });
    }
  }, 120_000);

  it('reads on a rest as long as batches take after a run that hung 90 s and then returned, not a rest of 90 s more', async () => {
    // Hung at the first or second run too: no time of its own yet, or one, before it.
    for (const lent of [false, true])
      for (const recognitionHangsAt of [1, 2, 4]) {
        const hangMs = 90_000;
        const { runStarts, hungSince = 0, told } = await readFor(110, { lent, streams: 1, sources: 1, batchMs: 300, detectMs: 100, recognitionHangsAt, recognitionHangMs: hangMs });
        const nextRunAfterS = ((runStarts.find((at) => at > hungSince + hangMs) ?? Number.POSITIVE_INFINITY) - (hungSince + hangMs)) / 1000;
        expect({ lent, recognitionHangsAt, told: told.length, resumedWithin2s: nextRunAfterS < 2 }).toEqual({ lent, recognitionHangsAt, told: 1, resumedWithin2s: true });
      }
  });

  it('rests as long as each batch took while batches take 0.2 s to 4 s, with the batch times inference gives it: at most half a core', async () => {
    for (const lent of [false, true]) {
      const { runStarts, runEnds } = await readFor(120, { lent, streams: 1, sources: 1, batchMs: (run) => (run % 5 === 0 ? 4000 : 200), detectMs: 100 });
      const shortRests = runEnds.slice(0, -1).filter((end, run) => runStarts[run + 1] - end < end - runStarts[run] - 2);
      expect({ lent, runs: runEnds.length > 20, shortRests }).toEqual({ lent, runs: true, shortRests: [] });
    }
  });

  it('leaves no batch at the model when its run fails: a model that fails is told as failed batches, not as hung', async () => {
    jest.useFakeTimers();
    const batchTimes = new InFlightTimes<ReadBatch>();
    const backend: InferenceBackend = {
      ...standIn(0, 0, (input) => input).backend,
      run: () => new Promise<TensorData>((_, reject) => setTimeout(() => reject(new Error('model run failed')), 300)),
    };
    let failed = 0;
    const tracking = { confirmFrames: 1, refreshMs: 100, refreshMaxMs: 100 };
    const reader = new VideoTextReader(new TextRecognizer(backend, characters), { minScore: 0, tracking, batchTimes, onBatchFailed: () => failed++ });
    for (let frame = 0; frame < 90; frame++) {
      void reader.read({ sourceId: 'camera0', timeMs: performance.now(), image, boxes });
      await jest.advanceTimersByTimeAsync(1000);
    }
    expect({ failed: failed > 10, oldest: batchTimes.oldest(), stuck: batchTimes.stuck() }).toEqual({ failed: true, oldest: undefined, stuck: undefined });
  });

  // A slow board's 4 s batches: reading the queued lines at shutdown (batch, rest, batch) took 12 s, past inference's 9 s stop limit.
  it.each([
    { stopAtMs: 1000, stopsAfterMs: 3000, while: 'a batch is at the model' },
    { stopAtMs: 5000, stopsAfterMs: 0, while: 'the reader rests' },
  ])('stops, lines queued, once the batch at the model is over, reading no more and disposing the model after its run ($while)', async ({ stopAtMs, stopsAfterMs }) => {
    jest.useFakeTimers();
    const recognition = standIn(4000, 0, recognitionOutput);
    let modelDisposedAt: number | undefined;
    const backend = { ...recognition.backend, dispose: async () => void (modelDisposedAt = performance.now()) };
    const reader = new VideoTextReader(new TextRecognizer(backend, characters), { minScore: 0, tracking: { confirmFrames: 1 } });
    const startedAt = performance.now();
    // camera0's lines go to the model; camera1's wait for the next batch.
    await reader.read({ sourceId: 'camera0', timeMs: 0, image, boxes });
    await reader.read({ sourceId: 'camera1', timeMs: 0, image, boxes });
    await jest.advanceTimersByTimeAsync(stopAtMs);
    const stopAt = performance.now();
    let stoppedAt: number | undefined;
    void reader.dispose().then(() => (stoppedAt = performance.now()));
    await jest.advanceTimersByTimeAsync(20_000);
    const { runs, runEnds } = recognition.model;
    expect({ stopAt: stopAt - startedAt, runs, stoppedAfterMs: (stoppedAt ?? Number.NaN) - stopAt, modelDisposedAfterRun: modelDisposedAt !== undefined && modelDisposedAt >= runEnds[0] }).toEqual({
      stopAt: stopAtMs,
      runs: 1,
      stoppedAfterMs: stopsAfterMs,
      modelDisposedAfterRun: true,
    });
  });

  it("does not time a batch waiting for a stream that a hung detection run keeps: that is detection's hang, which its chain tells", async () => {
    const { runs, told, oldest } = await readFor(180, { lent: true, streams: 1, sources: 1, batchMs: 300, detectMs: 100, detectionHangsAt: 10 });
    expect({ runs: runs > 0, told, oldest }).toEqual({ runs: true, told: [], oldest: undefined });
  });
});
