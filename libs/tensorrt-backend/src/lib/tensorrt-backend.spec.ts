import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxRuntimeBackend, type TensorData } from '@iev/inference-backends';
import { getPreset, Preprocessor } from '@iev/text-detection';
import { readBgrImage, recordingLog } from '@iev/testing';
import { WORKSPACE_ROOT } from '../testing/machine';
import { probeTensorRt, TensorRtUnavailableError, type NativeEngine, type NativeShape, type TensorRtAddon, type TensorRtMissing, type TensorRtRuntime } from './tensorrt-addon';
import { devicePreprocessPlan, TensorRtBackend } from './tensorrt-backend';
import { InputShapeError } from './model-input';
import { detectionInput, profileForPreset } from './tensorrt-profile';
import { recognitionInput } from './recognition-input';
import { readTensorRtSettings } from './tensorrt-settings';

const MODEL = join(WORKSPACE_ROOT, 'models/ch_pp_inf_dynamic.onnx');

describe('GPU preprocessing plan', () => {
  const normalize = getPreset('seed').normalize;
  const planned = { scale: normalize.scale, mean: normalize.mean, std: normalize.std };

  it("squashes seed frames to 960x960 as bytes first, as the sample's cv2.resize did, then normalizes at 960x960", () => {
    expect(devicePreprocessPlan({ width: 640, height: 480 }, getPreset('seed'))).toEqual({ intermediate: [960, 960], input: [960, 960], ...planned });
  });

  it('skips the squash for a frame already at its size', () => {
    expect(devicePreprocessPlan({ width: 960, height: 960 }, getPreset('seed'))).toEqual({ input: [960, 960], ...planned });
  });

  it("resizes default frames in one pass to DetResizeForTest's size", () => {
    expect(devicePreprocessPlan({ width: 1280, height: 720 }, getPreset('default'))).toEqual({ input: [960, 544], ...planned });
    expect(devicePreprocessPlan({ width: 640, height: 480 }, getPreset('default'))).toEqual({ input: [640, 480], ...planned });
  });
});

describe('TensorRtBackend without a binding', () => {
  it('fails to load saying the binding is not built and how to build it', async () => {
    const backend = new TensorRtBackend({ ...readTensorRtSettings({}), modelInput: detectionInput(profileForPreset(getPreset('seed'))), tensorRtAddonPath: '/nonexistent/tensorrt_addon.node', modelPath: MODEL, log: recordingLog() });
    await expect(backend.load()).rejects.toThrow(TensorRtUnavailableError);
    await expect(backend.load()).rejects.toThrow('npx nx run tensorrt-backend:build-native');
    await expect(backend.run({ data: new Float32Array(3 * 960 * 960), dims: [1, 3, 960, 960] })).rejects.toThrow('tensorrt: load() has not completed');
  });
});

describe('TensorRtBackend.run() and its input', () => {
  let cacheDir: string;
  beforeAll(() => (cacheDir = mkdtempSync(join(tmpdir(), 'iev-trt-order-'))));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('hands its input to the engine before it returns its promise, so the binding copies it in time (TypeScript ordering only: the engine is faked, nothing runs)', async () => {
    const handed: Float32Array[] = [];
    const dims: NativeShape = [1, 3, 960, 960];
    const modelInput = detectionInput(profileForPreset(getPreset('seed')));
    const fakeEngine: NativeEngine = {
      profile: () => modelInput.profile,
      outputDims: () => [1, 1, 960, 960],
      // What the binding does before it returns: take its copy of the input.
      inferTensor: (input) => (handed.push(input.slice()), Promise.resolve([1, 1, 960, 960])),
      inferImage: () => Promise.reject(new Error('not called')),
      dispose: () => undefined,
    };
    const addon = { buildEngine: async () => new Uint8Array(1), Engine: function Engine() { return fakeEngine; } } as unknown as TensorRtAddon;
    const runtime: TensorRtRuntime = { addon, addonPath: 'fake', tensorRtVersion: '10.16.0.0', cudaRuntimeVersion: '13.0', device: { name: 'fake', computeCapability: '8.7', multiprocessors: 16, totalMemoryBytes: 2 ** 30 } };
    const backend = new TensorRtBackend({ ...readTensorRtSettings({}), modelInput, tensorRtCacheDir: cacheDir, modelPath: MODEL, log: recordingLog(), runtime });
    await backend.load();
    const input = new Float32Array(3 * 960 * 960).fill(1);
    const running = backend.run({ data: input, dims });
    input.fill(2); // the next frame, written into the same buffer
    await running;
    expect(handed.map((copy) => [copy[0], copy[copy.length - 1]])).toEqual([[1, 1]]);
  });
});

const probe = probeTensorRt();
const UNAVAILABLE: Record<TensorRtMissing, string> = {
  binding: 'the TensorRT binding is not built; TensorRT is not installed on this machine, or build-native was not run',
  'tensorrt-library': 'TensorRT is not installed on this machine',
  'cuda-runtime': 'no CUDA runtime on this machine',
  driver: 'no usable NVIDIA driver on this machine',
  gpu: 'no CUDA GPU on this machine',
};
const needsTensorRt = probe.available ? describe : describe.skip;

function maxDifference(a: TensorData, b: TensorData): number {
  expect(a.dims).toEqual(b.dims);
  let largest = 0;
  for (let i = 0; i < a.data.length; i++) largest = Math.max(largest, Math.abs(a.data[i] - b.data[i]));
  return largest;
}

needsTensorRt(`with TensorRT${probe.available ? '' : ` (needs TensorRT: ${UNAVAILABLE[probe.error.missing]})`}`, () => {
  const frame = () => readBgrImage(join(WORKSPACE_ROOT, 'testdata/text-frames/dev-a/frame_000.png'), 640, 480);
  let cacheDir: string;
  let backend: TensorRtBackend;
  const log = recordingLog();
  // FP32 for the comparison with ONNX Runtime; TensorRT still uses TF32 on Ampere and later, hence the tolerance.
  const settings = () => ({ ...readTensorRtSettings({}), modelInput: detectionInput(profileForPreset(getPreset('seed'))), tensorRtCacheDir: cacheDir, tensorRtPrecision: 'fp32' as const, modelPath: MODEL, log });

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'iev-trt-'));
    backend = new TensorRtBackend(settings());
    await backend.load();
  }, 30 * 60_000);
  afterAll(async () => {
    await backend?.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('builds the engine on first load and loads it from the cache on the next', async () => {
    expect(log.lines).toContainEqual(expect.stringMatching(/^info: TensorRT engine built in \d+\.\d s, cached at .*\.engine$/));
    log.lines.length = 0;
    const second = new TensorRtBackend(settings());
    await second.load();
    await second.dispose();
    expect(log.lines.filter((line) => line.includes('building'))).toEqual([]);
    expect(log.lines.some((line) => line.startsWith('info: TensorRT engine loaded from'))).toBe(true);
  });

  it('computes the probability map ONNX Runtime computes, within 0.02 (TF32), on a real frame', async () => {
    const input = new Preprocessor(getPreset('seed')).run(frame());
    const tensor = { data: input.tensor.slice(), dims: [1, 3, input.height, input.width] };
    const cpu = new OnnxRuntimeBackend({ modelPath: MODEL });
    await cpu.load();
    try {
      expect(maxDifference(await backend.run(tensor), await cpu.run(tensor))).toBeLessThan(0.02);
    } finally {
      await cpu.dispose();
    }
  }, 120_000);

  it('gives the same map from bytes preprocessed on the GPU as from the CPU tensor', async () => {
    const image = frame();
    const preset = getPreset('seed');
    const input = new Preprocessor(preset).run(image);
    const fromTensor = await backend.run({ data: input.tensor.slice(), dims: [1, 3, input.height, input.width] });
    const fromBytes = await backend.runImage(image, preset);
    expect(maxDifference(fromBytes, fromTensor)).toBeLessThanOrEqual(1e-6);
  }, 120_000);

  it('lets the caller reuse its input and frame as soon as run() and runImage() return their promises', async () => {
    const image = frame();
    const preset = getPreset('seed');
    const input = new Preprocessor(preset).run(image);
    const dims = [1, 3, input.height, input.width];
    const expected = await backend.run({ data: input.tensor.slice(), dims });
    const reused = input.tensor.slice();
    const fromTensor = backend.run({ data: reused, dims });
    reused.fill(0); // the next frame, written into the same buffer
    expect(maxDifference(await fromTensor, expected)).toBe(0);
    const expectedFromBytes = await backend.runImage(image, preset);
    const fromBytes = backend.runImage(image, preset);
    image.data.fill(0);
    expect(maxDifference(await fromBytes, expectedFromBytes)).toBe(0);
  }, 120_000);

  it('handles input sizes changing between frames, and refuses one outside the profile', async () => {
    for (const size of [960, 1536, 1024, 960]) {
      const output = await backend.run({ data: new Float32Array(3 * size * size), dims: [1, 3, size, size] });
      expect(output.dims).toEqual([1, 1, size, size]);
      backend.recycle(output);
    }
    await expect(backend.run({ data: new Float32Array(3 * 640 * 480), dims: [1, 3, 480, 640] })).rejects.toThrow(InputShapeError);
  }, 120_000);
});

needsTensorRt(`the recognition model with TensorRT${probe.available ? '' : ` (needs TensorRT: ${UNAVAILABLE[probe.error.missing]})`}`, () => {
  const REC_MODEL = join(WORKSPACE_ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx');
  let cacheDir: string;
  let backend: TensorRtBackend;
  let cpu: OnnxRuntimeBackend;
  const log = recordingLog();

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'iev-trt-rec-'));
    backend = new TensorRtBackend({ ...readTensorRtSettings({}), modelInput: recognitionInput(), tensorRtCacheDir: cacheDir, tensorRtPrecision: 'fp32', modelPath: REC_MODEL, modelVariable: 'REC_MODEL_PATH', log });
    cpu = new OnnxRuntimeBackend({ modelPath: REC_MODEL });
    await Promise.all([backend.load(), cpu.load()]);
  }, 30 * 60_000);
  afterAll(async () => {
    await Promise.all([backend?.dispose(), cpu?.dispose()]);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  /** A batch of line images in [-1, 1] (the model's input range), different in every row and column. */
  function lines(batch: number, width: number): TensorData {
    const data = new Float32Array(batch * 3 * 48 * width);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * Math.cos(i * 0.011);
    return { data, dims: [batch, 3, 48, width] };
  }

  it('computes the probabilities ONNX Runtime computes, within 0.02 (TF32), for batches of 1 to 6, 48 to 1600 wide, with as many time steps', async () => {
    for (const [batch, width] of [[1, 48], [6, 320], [3, 1001], [6, 1600], [2, 100], [1, 320]]) {
      const input = lines(batch, width);
      const [gpu, reference] = [await backend.run({ ...input, data: input.data.slice() }), await cpu.run(input)];
      expect(gpu.dims).toEqual([batch, reference.dims[1], 6625]);
      expect(maxDifference(gpu, reference)).toBeLessThan(0.02);
    }
  }, 300_000);

  it('refuses a batch outside its profile before the engine sees it', async () => {
    await expect(backend.run(lines(7, 320))).rejects.toThrow(InputShapeError);
    await expect(backend.run(lines(1, 1601))).rejects.toThrow(InputShapeError);
  });

  it('loads its engine from the cache on the next start, keyed apart from the detector\'s', async () => {
    log.lines.length = 0;
    const second = new TensorRtBackend({ ...readTensorRtSettings({}), modelInput: recognitionInput(), tensorRtCacheDir: cacheDir, tensorRtPrecision: 'fp32', modelPath: REC_MODEL, log });
    await second.load();
    await second.dispose();
    expect(log.lines).toEqual([expect.stringMatching(/^info: TensorRT engine loaded from .*\.engine \(fp32\)$/)]);
  }, 120_000);
});
