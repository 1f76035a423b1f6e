import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { waitUntil } from '@iev/testing';
import { BackendPool, OnnxRuntimeBackend } from '@iev/inference-backends';
import { detectionHealth } from './inference-health';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');

describe('detectionHealth (real model, two streams)', () => {
  const streams = [new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 }), new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 })];
  const pool = new BackendPool(streams);
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it('says degraded while a stream whose worker crashed restarts, and healthy once it is back', async () => {
    expect(detectionHealth(pool)).toEqual({ healthy: true });
    await (streams[0] as unknown as { worker: Worker }).worker.terminate();
    expect(detectionHealth(pool)).toEqual({ healthy: false, status: 'degraded', streamsDown: 1 });
    await waitUntil(() => detectionHealth(pool).healthy, 'the stream to restart');
    expect(detectionHealth(pool)).toEqual({ healthy: true });
    expect((await pool.run({ data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] })).dims).toEqual([1, 1, 64, 64]);
  }, 30_000);
});
