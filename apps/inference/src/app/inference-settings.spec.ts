import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTextDetector, type TextDetector } from '@iev/detection-pipeline';
import { withFixedInputDims } from '@iev/inference-backends';
import { applyInferenceSettings } from './inference-settings';
import { TextReading } from './text-reading';

const ROOT = join(__dirname, '../../../..');
const quiet = { info: () => undefined, warn: () => undefined };
const loading = { modelsDir: join(ROOT, 'models'), threads: 1, streams: 1, useTensorRt: false, log: quiet };

describe('applyInferenceSettings', () => {
  let detector: TextDetector;
  let reading: TextReading;

  const readingFrom = (recModelPath: string) =>
    new TextReading({
      recModelPath,
      recDictPath: join(ROOT, 'models/ppocr_keys_v1.txt'),
      recMinScore: 0.5,
      recRefreshMs: 5000,
      recRefreshMaxMs: 60_000,
      recRereadMs: 1000,
      recConfirmFrames: 2,
      useTensorRt: false,
      threads: 1,
      detector,
      log: quiet,
    });

  beforeEach(async () => {
    detector = await loadTextDetector({ ...loading, preset: 'seed' });
  });

  afterEach(async () => {
    await reading.dispose();
    await detector.backend.dispose();
  });

  it('changes nothing when the reader a preset needs cannot load: the detector keeps its preset and model', async () => {
    reading = readingFrom(join(ROOT, 'models/missing-rec-model.onnx'));
    await expect(applyInferenceSettings(detector, reading, loading, { preset: 'default', minTextScore: 0.5 })).rejects.toThrow('missing-rec-model.onnx');
    expect(detector.preset.name).toBe('seed');
    expect(detector.modelPath).toBe(join(ROOT, 'models/ch_pp_inf_dynamic.onnx'));
    expect(reading.active).toBeUndefined();
  });

  it('switches the detector and reading together', async () => {
    reading = readingFrom(join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'));
    await applyInferenceSettings(detector, reading, loading, { preset: 'default', minTextScore: 0.7 });
    expect(detector.preset.name).toBe('default');
    expect(detector.modelPath).toBe(join(ROOT, 'models/ch_PP-OCRv4_det_infer.onnx'));
    expect(reading.active?.minScore).toBe(0.7);
  });
});

describe('applyInferenceSettings on a MODEL_PATH whose input is fixed at one size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fixed-size-model-'));
  const modelPath = join(dir, 'det-640x640.onnx');
  const fixedLoading = { ...loading, modelPath };
  let detector: TextDetector;
  const reading = new TextReading({ recModelPath: 'unused.onnx', recDictPath: 'unused.txt', recMinScore: 0.5, recRefreshMs: 5000, recRefreshMaxMs: 60_000, recRereadMs: 1000, recConfirmFrames: 2, useTensorRt: false, threads: 1, log: quiet });

  beforeAll(async () => {
    writeFileSync(modelPath, withFixedInputDims(readFileSync(join(ROOT, 'models/ch_PP-OCRv4_det_infer.onnx')), [1, 3, 640, 640]));
    detector = await loadTextDetector({ ...fixedLoading, preset: 'default' });
  });

  afterAll(async () => {
    await detector.backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a twin patch of limitSideLen, saying why, and keeps the detector as it was', async () => {
    const { backend, preset } = detector;
    await expect(applyInferenceSettings(detector, reading, fixedLoading, { preset: 'default', recognition: 'off', limitSideLen: 1280, minTextScore: 0.5 })).rejects.toThrow(
      "limitSideLen 1280 does not apply: the detection model's input is fixed at 640x640",
    );
    expect(detector.backend).toBe(backend);
    expect(detector.preset).toBe(preset);
    expect(detector.preset.resize).toEqual({ kind: 'fixed', width: 640, height: 640 });
  });
});
