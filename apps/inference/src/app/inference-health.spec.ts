import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { waitUntil } from '@iev/testing';
import { BackendPool, OnnxRuntimeBackend } from '@iev/inference-backends';
import { inferenceHealth } from './inference-health';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');

describe('inferenceHealth (real model, two streams)', () => {
  const streams = [new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 }), new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 })];
  const pool = new BackendPool(streams);
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it('says degraded while a stream whose worker crashed restarts, and healthy once it is back', async () => {
    expect(inferenceHealth(pool)).toEqual({ healthy: true });
    await (streams[0] as unknown as { worker: Worker }).worker.terminate();
    expect(inferenceHealth(pool)).toEqual({ healthy: false, status: 'degraded', streamsDown: 1 });
    await waitUntil(() => inferenceHealth(pool).healthy, 'the stream to restart');
    expect(inferenceHealth(pool)).toEqual({ healthy: true });
    expect((await pool.run({ data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] })).dims).toEqual([1, 1, 64, 64]);
  }, 30_000);
});

describe('inferenceHealth of the cameras decoded here', () => {
  it('says degraded while any camera of CAPTURE_SOURCES is down, naming it, as a capture module is unhealthy for its one', () => {
    const allUp = { streamsDown: 0 };
    expect(inferenceHealth(allUp, { sourcesDown: [] })).toEqual({ healthy: true });
    expect(inferenceHealth(allUp, { sourcesDown: ['door'] })).toEqual({ healthy: false, status: 'degraded', sourcesDown: ['door'] });
    expect(inferenceHealth({ streamsDown: 1 }, { sourcesDown: ['door', 'gate'] })).toEqual({ healthy: false, status: 'degraded', streamsDown: 1, sourcesDown: ['door', 'gate'] });
  });
});

describe('inferenceHealth of a frame stuck in detection', () => {
  it('says degraded, and for how long, while a stage holds a frame far longer than frames take', () => {
    expect(inferenceHealth({ streamsDown: 0 }, { stuckInDetectionMs: 61_000 })).toEqual({ healthy: false, status: 'degraded', stuckInDetectionMs: 61_000 });
  });
});

describe('inferenceHealth of a recognition batch stuck at the model', () => {
  it('says degraded, and for how long, while reading holds a batch far longer than batches take, detection going on', () => {
    expect(inferenceHealth({ streamsDown: 0 }, { stuckInReadingMs: 61_000 })).toEqual({ healthy: false, status: 'degraded', stuckInReadingMs: 61_000 });
  });
});
