import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgnoredRegions, loadTextDetector, type TextDetector } from '@iev/detection-pipeline';
import { readAddedSource, sourceConfigSpec } from '@iev/capture-sources';
import { withFixedInputDims } from '@iev/inference-backends';
import { readConfig } from '@iev/service-runtime';
import pino from 'pino';
import { Registry } from 'prom-client';
import { inProcessCapture } from './in-process-capture';
import { applyInferenceSettings } from './inference-settings';
import { TextReading } from './text-reading';

// Each switch loads real models: seconds on a busy 2-core machine (one took 5 s on CI).
jest.setTimeout(30_000);

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
      recLookalikes: 'auto',
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

  describe('with cameras decoded in process (CAPTURE_SOURCES)', () => {
    const demo = join(ROOT, 'assets/demo/demo.mp4');
    const camera = (source: string) => ({ source, fps: 0, width: 0, height: 0, crop: '' });
    const cameras = () => inProcessCapture([readConfig(sourceConfigSpec, { CAMERA_PATH: demo })], (sourceId) => readAddedSource(sourceId, {}), pino({ level: 'silent' }), new Registry());

    it('applies the rest of a patch where a camera cannot be opened, leaving that camera as it was and saying why', async () => {
      reading = readingFrom(join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'));
      const capture = await cameras();
      try {
        const patch = { preset: 'default', minTextScore: 0.5, cameras: { camera0: camera(join(ROOT, 'assets/demo/missing.mp4')) } };
        const partly = await applyInferenceSettings(detector, reading, loading, patch, capture.cameras);
        expect(partly).toEqual({ settings: { cameras: { camera0: camera(demo) } }, refused: [expect.stringMatching(/^cameras\.camera0: source: video file not found/)] });
        expect(detector.preset.name).toBe('default');
        expect(reading.active).toBeDefined();
        expect(capture.cameras.settings()).toEqual({ camera0: camera(demo) });
      } finally {
        await capture.server.close();
      }
    });

    it('switches no camera when the reader the patch needs cannot load', async () => {
      reading = readingFrom(join(ROOT, 'models/missing-rec-model.onnx'));
      const capture = await cameras();
      try {
        const patch = { preset: 'default', minTextScore: 0.5, cameras: { camera0: { ...camera(demo), fps: 5 } } };
        await expect(applyInferenceSettings(detector, reading, loading, patch, capture.cameras)).rejects.toThrow('missing-rec-model.onnx');
        expect(capture.cameras.settings()).toEqual({ camera0: camera(demo) });
      } finally {
        await capture.server.close();
      }
    });

    it("gives a camera the twin adds the ignore regions of its own entry, as a CAPTURE_SOURCES entry's, the other cameras keeping theirs", async () => {
      reading = readingFrom(join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'));
      const capture = await cameras();
      try {
        const regions = { inForce: IgnoredRegions.NONE };
        // The start-up regions: camera0's entry's list, a rectangle in pixels.
        const settings = { preset: 'seed', minTextScore: 0.5, ignoreRegions: '{"camera0":[[30,366,210,62]]}' };
        const garage = { ...camera(demo), ignoreRegions: '[[0.6,0,0.4,0.05]]' };
        await applyInferenceSettings(detector, reading, loading, { ...settings, cameras: { camera0: camera(demo), garage } }, capture.cameras, { regions });

        expect(capture.cameras.sourceIds()).toEqual(['camera0', 'garage']);
        expect(regions.inForce.regionsOf('garage')).toEqual([{ unit: 'fraction', points: [[0.6, 0], [1, 0], [1, 0.05], [0.6, 0.05]] }]);
        expect(regions.inForce.regionsOf('camera0')).toEqual([{ unit: 'pixel', points: [[30, 366], [240, 366], [240, 428], [30, 428]] }]);
        // A list of a camera of CAPTURE_SOURCES, changed alone: taken, and its camera runs on as it was.
        const own = { ...camera(demo), ignoreRegions: '[[0,0,0.1,0.1]]' };
        await applyInferenceSettings(detector, reading, loading, { ...settings, cameras: { camera0: own, garage } }, capture.cameras, { regions });
        expect(regions.inForce.regionsOf('camera0')).toEqual([{ unit: 'fraction', points: [[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1]] }]);
        expect(capture.cameras.settings()).toEqual({ camera0: own, garage });
        // Its list removed while the twin's ignoreRegions is set: the camera takes that one's regions, not start-up's.
        const bottom = { unit: 'fraction', points: [[0, 0.9], [1, 0.9], [1, 1], [0, 1]] };
        await applyInferenceSettings(detector, reading, loading, { ...settings, ignoreRegions: '{"*":[[0,0.9,1,0.1]]}', cameras: { camera0: camera(demo), garage } }, capture.cameras, { regions });
        expect(regions.inForce.regionsOf('camera0')).toEqual([bottom]);
        // Held to a twin string together with the others, as they are reported: the patch rejected, nothing changed.
        const many = { ...camera(demo), ignoreRegions: JSON.stringify(Array.from({ length: 300 }, () => [0, 0, 0.5, 0.5])) };
        await expect(applyInferenceSettings(detector, reading, loading, { ...settings, cameras: { camera0: camera(demo), garage: many } }, capture.cameras, { regions })).rejects.toThrow(
          /^ignoreRegions with the cameras' own lists must be at most 4096 bytes as compact JSON/,
        );
        expect(regions.inForce.regionsOf('garage')).toHaveLength(1);
      } finally {
        await capture.server.close();
      }
    });

    it("warns of a camera cropped anew whose regions stay, which then cover another part of the picture, not of one whose regions the patch redraws or clears", async () => {
      reading = readingFrom(join(ROOT, 'models/ch_PP-OCRv4_rec_infer.onnx'));
      const capture = await cameras();
      try {
        const regions = { inForce: IgnoredRegions.NONE };
        const warnings: string[] = [];
        const warn = (_context: object, message: string) => void warnings.push(message);
        const settings = { preset: 'seed', minTextScore: 0.5, ignoreRegions: '{"camera0":[[0.6,0,0.4,0.05]]}' };
        const apply = (camera0: object, ignoreRegions = settings.ignoreRegions) =>
          applyInferenceSettings(detector, reading, loading, { ...settings, ignoreRegions, cameras: { camera0: { ...camera(demo), ...camera0 } } }, capture.cameras, { regions, warn });
        await apply({});
        // The top right quarter, the clock's region redrawn on it in the same patch.
        await apply({ crop: '50%,0,50%,50%', ignoreRegions: '[[0.2,0,0.8,0.1]]' });
        // The whole picture again, no region left anywhere.
        await apply({ crop: '', ignoreRegions: '[]' }, '{}');
        expect(warnings).toEqual([]);
        // Cropped anew alone: the clock's region of the whole picture now hides the top right of the crop's region.
        await apply({}, settings.ignoreRegions);
        await apply({ crop: '0,0,50%,50%' });
        expect(warnings).toEqual([expect.stringMatching(/^camera "camera0"'s crop changed from the whole picture to 0,0,50%,50% while 1 ignore region\(s\) apply to it/)]);
      } finally {
        await capture.server.close();
      }
    });
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
  const reading = new TextReading({ recModelPath: 'unused.onnx', recDictPath: 'unused.txt', recLookalikes: 'auto', recMinScore: 0.5, recRefreshMs: 5000, recRefreshMaxMs: 60_000, recRereadMs: 1000, recConfirmFrames: 2, useTensorRt: false, threads: 1, log: quiet });

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
