import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { readBgrImage, waitUntil } from '@iev/testing';
import { getPreset } from '@iev/text-detection';
import { BackendPool } from './backend-pool';
import type { InferenceBackend, TensorData } from './inference-backend';
import { OnnxRuntimeBackend } from './onnxruntime-backend';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');
const stream = () => new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
const input = (seed: number) => ({ data: new Float32Array(3 * 64 * 96).map((_, i) => Math.sin(i / seed)), dims: [1, 3, 64, 96] });

describe('BackendPool (real model, two streams)', () => {
  const pool = new BackendPool([stream(), stream()]);
  const single = stream();
  // Three sessions: seconds on two cores busy with other suites.
  beforeAll(() => Promise.all([pool.load(), single.load()]), 60_000);
  afterAll(() => Promise.all([pool.dispose(), single.dispose()]));

  it('says how many runs may be in flight and identifies the model like one stream does', () => {
    expect(pool.concurrency).toBe(2);
    expect(pool.name).toBe('onnxruntime-cpu');
    expect(pool.modelId).toBe(single.modelId);
  });

  it('runs two inputs at once, each giving the map one stream gives for it', async () => {
    const [a, b] = [input(3), input(11)];
    const expected = [Array.from((await single.run(a)).data), Array.from((await single.run(b)).data)];
    const outputs = await Promise.all([pool.run(a), pool.run(b)]);
    expect(outputs.map((output) => Array.from(output.data))).toEqual(expected);
    for (const output of outputs) pool.recycle(output); // as the detector does once a map is read
  });

  it('refuses a run beyond its streams instead of queueing it, and serves again once a stream is free', async () => {
    const running = [pool.run(input(5)), pool.run(input(7))];
    await expect(pool.run(input(9))).rejects.toThrow('onnxruntime-cpu: all 2 streams are busy; await a free one before run()');
    for (const output of await Promise.all(running)) pool.recycle(output);
    const served = await pool.run(input(9));
    expect(served).toMatchObject({ dims: [1, 1, 64, 96] });
    pool.recycle(served);
  });

  it('runs on the stream idle longest, and hands a recycled output back to the stream that made it, which writes its next map into it', async () => {
    const first = await pool.run(input(13));
    const expected = Array.from(first.data);
    pool.recycle(first);
    const other = await pool.run(input(13));
    expect(other.data.buffer).not.toBe(first.data.buffer); // the other stream, idle longer
    pool.recycle(other);
    const again = await pool.run(input(13));
    expect(again.data.buffer).toBe(first.data.buffer); // the first stream's slot, free again and written in place
    expect(Array.from(again.data)).toEqual(expected);
    pool.recycle(again);
  });

  it('fails load() with the failing stream\'s message and leaves no stream running', async () => {
    const loaded = stream();
    const broken = new BackendPool([loaded, new OnnxRuntimeBackend({ modelPath: '/nonexistent/model.onnx' })]);
    await expect(broken.load()).rejects.toThrow('cannot read model file /nonexistent/model.onnx');
    await expect(loaded.run(input(3))).rejects.toThrow('load() has not completed');
  });
});

describe('BackendPool with a stream whose worker ended on its own (a crash)', () => {
  const streams = [stream(), stream()];
  const pool = new BackendPool(streams);
  const image = readBgrImage(join(__dirname, '../../../../testdata/text-frames/dev-a/frame_000.png'), 640, 480);
  const killWorker = (backend: OnnxRuntimeBackend) => (backend as unknown as { worker: Worker }).worker.terminate();
  const boxesFound = async () => {
    if (!pool.detectImages) throw new Error('the pool has no detectImages');
    return (await (await pool.detectImages([image], getPreset('default'))).frames)[0].boxes.length;
  };
  beforeAll(() => pool.load(), 60_000);
  afterAll(() => pool.dispose());

  it('hands no frame to the stream that is down: frames one after another all get their boxes', async () => {
    await killWorker(streams[1]);
    expect(pool.streamsDown).toBe(1);
    for (let frame = 0; frame < 4; frame++) expect(await boxesFound()).toBeGreaterThan(5);
  }, 30_000);

  it('runs two frames at once (within its concurrency) with one stream down: the second waits for the stream that is up', async () => {
    await waitUntil(() => pool.streamsDown === 0, 'the stream to restart');
    await killWorker(streams[1]);
    const found = await Promise.all([boxesFound(), boxesFound()]);
    expect(found.every((boxes) => boxes > 5)).toBe(true);
  }, 30_000);
});

/**
 * Streams that run nothing (the pool's scheduling alone, which the real streams above cannot be crashed and
 * restarted precisely enough to reach): each run waits until the test ends it, and a stream is down while `down`.
 */
class HeldStream implements InferenceBackend {
  readonly name = 'held';
  readonly modelId = 'm';
  readonly modelSha256 = 'm';
  down = false;
  readonly runs: Array<{ succeed: () => void; fail: () => void }> = [];

  get streamsDown(): number {
    return this.down ? 1 : 0;
  }

  async load(): Promise<void> {
    return undefined;
  }

  run(input: TensorData): Promise<TensorData> {
    return new Promise((resolve, reject) => this.runs.push({ succeed: () => resolve(input), fail: () => reject(new Error('worker exited')) }));
  }

  async dispose(): Promise<void> {
    return undefined;
  }
}

describe('BackendPool scheduling around streams that are down', () => {
  it('starts a waiting run on a stream that came back while it waited, when the busy one it waited for fails', async () => {
    const [first, second] = [new HeldStream(), new HeldStream()];
    const pool = new BackendPool([first, second]);
    second.down = true;
    const running = pool.run(input(1));
    const waiting = pool.run(input(2));
    expect(first.runs).toHaveLength(1);
    second.down = false; // its worker restarted, idle
    first.down = true; // and the busy one's crashed
    first.runs[0].fail();
    await expect(running).rejects.toThrow('worker exited');
    await waitUntil(() => second.runs.length === 1, 'the waiting run to start on the stream that came back');
    second.runs[0].succeed();
    expect((await waiting).dims).toEqual(input(2).dims);
  });
});
