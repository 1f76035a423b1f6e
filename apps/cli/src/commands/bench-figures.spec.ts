import type { Detections } from '@iev/frame-protocol';
import { cpuFigures, latencyFigures } from './bench-figures';
import type { MeasuredPipeline } from './bench-segments';
import { NO_USAGE } from './pipeline-usage';

/** Detections as the pipeline publishes them, `latencyMs` after their frame was captured. */
function received(latenciesMs: number[]): MeasuredPipeline['detections'] {
  return latenciesMs.map((latencyMs, sequence) => {
    const captureTimeMs = 1_000_000 + sequence * 33;
    const detections = {
      frame: { sourceId: 'camera0', sequence, captureTimeMs },
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

describe('latencyFigures', () => {
  it("takes capture → published percentiles and sets p99 against the model's median run", () => {
    const latencies = [...Array.from({ length: 98 }, () => 200), 300, 500];
    const figures = latencyFigures({ fps: 10, detections: received(latencies), usage: NO_USAGE }, [150, 100, 125]);
    expect(figures.latencyMs).toEqual({ p50: 200, p90: 200, p99: 300 });
    expect(figures.modelMedianMs).toBe(125);
    expect(figures.latencyRatio).toBe(2.4);
  });
});

describe('cpuFigures', () => {
  it('gives each part of the pipeline as percent of a core and CPU-ms per consumed frame, and capture per decoded frame', () => {
    const pipeline: MeasuredPipeline = {
      fps: 10,
      detections: received(Array.from({ length: 40 }, () => 200)),
      usage: {
        wallMs: 4000,
        capture: { processMs: 400, groups: { main: 300, rest: 100 }, childrenMs: 200 },
        captureGcMs: 40,
        // 40 ms in a thread that ended before the second look: in the total alone.
        inference: { processMs: 4120, groups: { main: 400, workers: 3600, rest: 80 }, childrenMs: 0 },
        inferenceGcMs: 120,
        framesDecoded: 120,
      },
    };
    const cpu = cpuFigures(pipeline);
    expect(cpu.decoder).toEqual({ corePercent: 5, msPerFrame: 5 });
    expect(cpu.capture).toEqual({
      total: { corePercent: 10, msPerFrame: 10 },
      gcPauses: { corePercent: 1, msPerFrame: 1 },
      main: { corePercent: 7.5, msPerFrame: 7.5 },
      rest: { corePercent: 2.5, msPerFrame: 2.5 },
    });
    expect(cpu.inference.total).toEqual({ corePercent: 103, msPerFrame: 103 });
    expect(cpu.inference.workers).toEqual({ corePercent: 90, msPerFrame: 90 });
    expect(cpu.inference.gcPauses).toEqual({ corePercent: 3, msPerFrame: 3 });
    // capture (400 ms) and its decoder (200 ms) over 120 frames decoded and 40 consumed.
    expect(cpu).toMatchObject({ framesDecoded: 120, framesConsumed: 40, captureMsPerDecodedFrame: 5, captureMsPerConsumedFrame: 15 });
  });
});
