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

  it('refuses to run before load()', async () => {
    const unloaded = new OnnxRuntimeBackend({ modelPath: MODEL });
    await expect(unloaded.run({ data: new Float32Array(3), dims: [1, 3, 1, 1] })).rejects.toThrow('load() has not completed');
  });
});
