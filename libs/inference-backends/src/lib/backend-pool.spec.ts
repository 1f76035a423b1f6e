import { join } from 'node:path';
import { BackendPool } from './backend-pool';
import { OnnxRuntimeBackend } from './onnxruntime-backend';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');
const stream = () => new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
const input = (seed: number) => ({ data: new Float32Array(3 * 64 * 96).map((_, i) => Math.sin(i / seed)), dims: [1, 3, 64, 96] });

describe('BackendPool (real model, two streams)', () => {
  const pool = new BackendPool([stream(), stream()]);
  const single = stream();
  beforeAll(() => Promise.all([pool.load(), single.load()]));
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
