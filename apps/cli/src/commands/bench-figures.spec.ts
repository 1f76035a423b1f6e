import type { Detections } from '@iev/frame-protocol';
import { cpuFigures, latencyFigures, multiSourceFigures, previewFigures, ratiosByRound, recognitionFigures } from './bench-figures';
import type { MeasuredPipeline } from './bench-segments';
import { NO_USAGE } from './pipeline-usage';

/** Detections as the pipeline publishes them, `latencyMs` after their frame was captured. */
function received(latenciesMs: number[], sourceId = 'camera0', sequences = latenciesMs.map((_, index) => index)): MeasuredPipeline['detections'] {
  return latenciesMs.map((latencyMs, index) => {
    const sequence = sequences[index];
    const captureTimeMs = 1_000_000 + sequence * 33;
    const detections = {
      frame: { sourceId, sequence, captureTimeMs },
      width: 640,
      height: 480,
      modelId: 'model',
      boxes: [],
      timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
      publishedAtMs: captureTimeMs + latencyMs,
    } satisfies Detections;
    return { detections, receivedAtMs: detections.publishedAtMs + 1 };
  });
}

/** A pipeline measured in these segments over `ms`, in segments of equal length. */
function measured(segments: MeasuredPipeline['segments'], ms: number): MeasuredPipeline {
  const detections = segments.flat();
  return { fps: (detections.length * 1000) / ms, ms, detections, segments, segmentLengthsMs: segments.map(() => ms / segments.length), usage: NO_USAGE };
}

describe('ratiosByRound', () => {
  it("sets each round's segment fps against that round's bare fps, segments of their own lengths", () => {
    const pipeline = { segments: [received(Array(30).fill(100)), received(Array(27).fill(100)), received(Array(56).fill(100))], segmentLengthsMs: [1000, 1000, 2000] };
    expect(ratiosByRound(pipeline, [40, 30, 35])).toEqual([0.75, 0.9, 0.8]);
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => ratiosByRound({ segments: [received([100])], segmentLengthsMs: [1000] }, [30, 31])).toThrow('1 pipeline segments for 2 bare rounds');
  });
});

describe('latencyFigures', () => {
  it("takes capture → published percentiles and sets p99 against the model's median run", () => {
    const latencies = [...Array.from({ length: 98 }, () => 200), 300, 500];
    const figures = latencyFigures(measured([received(latencies)], 10_000), [150, 100, 125]);
    expect(figures.latencyMs).toEqual({ p50: 200, p90: 200, p99: 300 });
    expect(figures.modelMedianMs).toBe(125);
    expect(figures.latencyRatio).toBe(2.4);
  });
});

describe('recognitionFigures', () => {
  it("takes new lines' waits for text only from lines that appeared within a segment, not across the pause before it", () => {
    const [first, second, third] = received([100, 100, 100]);
    const withLines = ({ detections, receivedAtMs }: (typeof first), textAfterMs: number[]) => ({ detections: { ...detections, lines: { read: 1, carried: 0, dropped: 0, textAfterMs } }, receivedAtMs });
    // Frames 33 ms apart; the second segment starts with `second`: a wait of 40 ms shown with `third` began 7 ms before it.
    const segments = [[withLines(first, [0])], [withLines(second, [0]), withLines(third, [33, 40])]];
    const figures = recognitionFigures(measured(segments, 3000), measured([received([90])], 1000));
    expect(figures.textAfterMs).toEqual({ p50: 0, p90: 33, count: 3 });
    expect(figures.linesReadPerFrame).toBe(1);
  });
});

describe('cpuFigures', () => {
  it('gives each part of the pipeline as percent of a core and CPU-ms per consumed frame, and capture per decoded frame', () => {
    const pipeline: MeasuredPipeline = {
      ...measured([received(Array.from({ length: 40 }, () => 200))], 4000),
      usage: {
        wallMs: 4000,
        capture: { processMs: 400, groups: { main: 300, rest: 100 }, childrenMs: 200 },
        captureGcMs: 40,
        // 40 ms in a thread that ended before the second look: in the total alone.
        inference: { processMs: 4120, groups: { main: 400, workers: 3600, rest: 80 }, childrenMs: 0 },
        inferenceGcMs: 120,
        framesDecoded: 120,
        preview: { processMs: 160, groups: {}, childrenMs: 0 },
        // Two cores for 4 s: capture's 600 ms, inference's 4120, the preview's 160, the bench's 120 (its children, the
        // modules, not counted again), 400 of other processes, 2400 idle, 200 stolen.
        benchMs: 120,
        machine: { busyMs: 5400, idleMs: 2400, stolenMs: 200 },
      },
    };
    const cpu = cpuFigures(pipeline);
    // 40 frames in 4 s: a share of a core in % and CPU-ms a frame are the same number.
    const both = (value: number) => ({ corePercent: value, msPerFrame: value });
    expect(cpu.decoder).toEqual(both(5));
    expect(cpu.capture).toEqual({ total: both(10), gcPauses: both(1), main: both(7.5), rest: both(2.5) });
    expect(cpu.inference.total).toEqual(both(103));
    expect(cpu.inference.workers).toEqual(both(90));
    expect(cpu.inference.gcPauses).toEqual(both(3));
    // capture (400 ms) and its decoder (200 ms) over 120 frames decoded and 40 consumed.
    expect(cpu).toMatchObject({ framesDecoded: 120, framesConsumed: 40, captureMsPerDecodedFrame: 5, captureMsPerConsumedFrame: 15 });
    expect(cpu.preview).toEqual(both(4));
    expect(cpu.machine).toEqual({ bench: both(3), otherProcesses: both(10), idle: both(60), stolen: both(5) });
  });

  it("counts inference's children as the decoders where it decodes its cameras itself, once", () => {
    const pipeline: MeasuredPipeline = {
      ...measured([received(Array.from({ length: 40 }, () => 200))], 4000),
      usage: {
        ...NO_USAGE,
        wallMs: 4000,
        inference: { processMs: 4000, groups: { main: 400, workers: 3600 }, childrenMs: 200 },
        framesDecoded: 50,
        benchMs: 100,
        machine: { busyMs: 4700, idleMs: 3300, stolenMs: 0 },
      },
    };
    const cpu = cpuFigures(pipeline);
    const both = (value: number) => ({ corePercent: value, msPerFrame: value });
    expect(cpu.decoder).toEqual(both(5));
    expect(cpu).toMatchObject({ framesDecoded: 50, captureMsPerDecodedFrame: 4, captureMsPerConsumedFrame: 5 });
    // 4700 busy less inference's 4200 with its decoders and the bench's 100.
    expect(cpu.machine.otherProcesses).toEqual(both(10));
  });
});

describe('previewFigures', () => {
  it("sets fps watched against paused, with the preview's CPU and capture's and inference's in each", () => {
    const cpu = (processMs: number) => ({ processMs, groups: {}, childrenMs: 0 });
    const watched: MeasuredPipeline = {
      ...measured([received(Array.from({ length: 45 }, () => 200))], 3000),
      usage: { ...NO_USAGE, wallMs: 3000, capture: { ...cpu(150), childrenMs: 60 }, inference: cpu(5400), preview: cpu(90) },
    };
    const paused: MeasuredPipeline = {
      ...measured([received(Array.from({ length: 50 }, () => 200))], 3000),
      usage: { ...NO_USAGE, wallMs: 3000, capture: cpu(180), inference: cpu(5700) },
    };
    expect(previewFigures(watched, paused)).toEqual({
      fpsWith: 15,
      fpsWithout: 16.67,
      ratio: 0.9,
      corePercent: { preview: 3, captureWith: 7, captureWithout: 6, inferenceWith: 180, inferenceWithout: 190 },
    });
  });
});

describe('multiSourceFigures', () => {
  it("gives each source's fps, latency and frames skipped within a segment, the aggregate against the bare model, and the fairness", () => {
    // Two 5 s segments: camera0 16 frames in all, camera1 12, one of them after a gap of 2 frames; the pause between
    // the segments (sequence 7 → 20) is not a skip.
    const segments = [
      [...received(Array(8).fill(300), 'camera0', [0, 1, 2, 3, 4, 5, 6, 7]), ...received(Array(6).fill(500), 'camera1', [0, 1, 2, 3, 6, 7])],
      [...received(Array(8).fill(300), 'camera0', [20, 21, 22, 23, 24, 25, 26, 27]), ...received(Array(6).fill(500), 'camera1', [20, 21, 22, 23, 24, 25])],
    ];
    const figures = multiSourceFigures(measured(segments, 10_000), ['camera0', 'camera1'], 3.5);

    expect(figures.sources).toEqual([
      { id: 'camera0', fps: 1.6, latencyMs: { p50: 300, p90: 300, p99: 300 }, skipped: 0 },
      { id: 'camera1', fps: 1.2, latencyMs: { p50: 500, p90: 500, p99: 500 }, skipped: 2 },
    ]);
    expect(figures.aggregateFps).toBe(2.8);
    expect(figures.aggregateRatio).toBe(0.8);
    expect(figures.sourceFairness).toBe(0.75);
  });

  it('counts a source that got no frame at all as 0 fps: fairness 0', () => {
    const figures = multiSourceFigures(measured([received([200, 200], 'camera0')], 1000), ['camera0', 'camera1'], 4);
    expect(figures.sources[1]).toMatchObject({ id: 'camera1', fps: 0, skipped: 0 });
    expect(figures.sourceFairness).toBe(0);
  });
});
