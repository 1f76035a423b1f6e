import { join } from 'node:path';
import { OnnxRuntimeBackend } from './onnxruntime-backend';

const MODEL = join(__dirname, '../../../../models/ch_pp_inf_dynamic.onnx');

describe('OnnxRuntimeBackend (real model)', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  beforeAll(() => backend.load());
  afterAll(() => backend.dispose());

  it('identifies the model by its sha256', () => {
    expect(backend.modelSha256).toBe('7ceb879269ed0e1124f74e1d98bbd2be26479a75debae64df80d2bf302abb6be');
    expect(backend.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
  });

  it('returns a probability map of the input size for any multiple of 32', async () => {
    const input = new Float32Array(3 * 64 * 96).fill(0.5);
    const output = await backend.run({ data: input, dims: [1, 3, 64, 96] });
    expect(output.dims).toEqual([1, 1, 64, 96]);
    expect(output.data).toHaveLength(64 * 96);
    expect(output.data.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it('fails with a message naming the file when the model is missing', async () => {
    const missing = new OnnxRuntimeBackend({ modelPath: '/nonexistent/model.onnx' });
    await expect(missing.load()).rejects.toThrow('cannot read model file /nonexistent/model.onnx: no such file');
  });

  it('says where a relative model path was looked for', async () => {
    const relative = new OnnxRuntimeBackend({ modelPath: 'no-such-dir/model.onnx' });
    await expect(relative.load()).rejects.toThrow(`(${process.cwd()}/no-such-dir/model.onnx); set MODEL_PATH to the model's full path`);
  });

  it('refuses to run before load()', async () => {
    const unloaded = new OnnxRuntimeBackend({ modelPath: MODEL });
    await expect(unloaded.run({ data: new Float32Array(3), dims: [1, 3, 1, 1] })).rejects.toThrow('load() has not completed');
  });
});

describe('OnnxRuntimeBackend off the main thread', () => {
  const backend = new OnnxRuntimeBackend({ modelPath: MODEL, intraOpThreads: 1 });
  beforeAll(() => backend.load());
  afterAll(() => backend.dispose());

  it('keeps the event loop free while the model runs, so sockets keep draining', async () => {
    const input = { data: new Float32Array(3 * 480 * 480).fill(0.2), dims: [1, 3, 480, 480] };
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    await backend.run(input);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('gives the same map as a fresh run for repeated and resized inputs (the reused buffer is not stale)', async () => {
    const small = { data: new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i)), dims: [1, 3, 64, 64] };
    const large = { data: new Float32Array(3 * 128 * 96).map((_, i) => Math.cos(i)), dims: [1, 3, 128, 96] };
    const first = Array.from((await backend.run(small)).data);
    await backend.run(large);
    const again = await backend.run(small);
    expect(again.dims).toEqual([1, 1, 64, 64]);
    expect(Array.from(again.data)).toEqual(first);
  });

  it('writes into a recycled output buffer and gives the same map as a fresh one', async () => {
    const input = { data: new Float32Array(3 * 96 * 64).map((_, i) => Math.sin(i / 7)), dims: [1, 3, 96, 64] };
    const fresh = await backend.run(input);
    const expected = Array.from(fresh.data);
    backend.recycle(fresh);
    const reused = await backend.run(input);
    expect(fresh.data).toHaveLength(0); // lent to the worker: detached here, written there, sent back as `reused`
    expect(reused.dims).toEqual([1, 1, 96, 64]);
    expect(Array.from(reused.data)).toEqual(expected);
    backend.recycle(reused);
    const larger = await backend.run({ data: new Float32Array(3 * 128 * 128), dims: [1, 3, 128, 128] });
    expect(larger.data).toHaveLength(128 * 128); // a recycled buffer too small for the new size is not used
  });

  it('refuses concurrent runs instead of mixing them up', async () => {
    const input = { data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] };
    const first = backend.run(input);
    await expect(backend.run(input)).rejects.toThrow('must not be called concurrently');
    await first;
  });
});
