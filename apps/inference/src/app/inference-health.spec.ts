import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SourceActivity } from '@iev/service-runtime';
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

  it("says degraded, with how long, once a frame has been held past 60 s and 10 times the real model's runs, and healthy once it is let go", async () => {
    const activity = new SourceActivity();
    const input = { data: new Float32Array(3 * 320 * 320), dims: [1, 3, 320, 320] };
    for (let run = 0; run < 4; run++) {
      activity.received('camera0');
      await pool.run(input);
      activity.waitingFor('camera0');
    }
    // The next frame's run never returns (a native call stuck in its worker): the owner's once-a-second checks go on.
    const heldAt = Date.now();
    activity.received('camera0', heldAt);
    for (let now = heldAt; now <= heldAt + 59_000; now += 1000) activity.check(now);
    expect(inferenceHealth(pool, { frameHeldForMs: activity.heldTooLongMs(heldAt + 59_000) })).toEqual({ healthy: true });
    for (let now = heldAt + 60_000; now <= heldAt + 61_000; now += 1000) activity.check(now);
    expect(inferenceHealth(pool, { frameHeldForMs: activity.heldTooLongMs(heldAt + 61_000) })).toEqual({ healthy: false, status: 'degraded', frameHeldForMs: 61_000 });
    activity.waitingFor('camera0', heldAt + 61_500);
    expect(inferenceHealth(pool, { frameHeldForMs: activity.heldTooLongMs(heldAt + 61_500) })).toEqual({ healthy: true });
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
