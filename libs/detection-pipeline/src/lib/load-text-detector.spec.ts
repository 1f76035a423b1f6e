import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkedModelInput, readModelFile, type InferenceBackend } from '@iev/inference-backends';
import { parseTensorRtProfile, type TensorRtProfile } from '@iev/tensorrt-backend';
import { customizePreset, getPreset, type PresetOverrides } from '@iev/text-detection';
import { loadTextDetector, reconfigureDetector } from './load-text-detector';
import { TextDetector } from './text-detector';

const MODELS = join(__dirname, '../../../../models');
const MODEL = join(MODELS, 'ch_pp_inf_dynamic.onnx');

// Loading a model takes ~1 s alone; CI's parallel projects once made it take over Jest's default 5 s.
jest.setTimeout(30_000);

describe('loadTextDetector', () => {
  it('returns a detector for the named preset with its model loaded', async () => {
    const detector = await loadTextDetector({ preset: 'default', modelPath: MODEL, threads: 1, useTensorRt: false });
    try {
      expect(detector.preset.name).toBe('default');
      expect(detector.backend.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
    } finally {
      await detector.backend.dispose();
    }
  });

  describe("with MODEL_PATH unset, errors about the preset's own model blame no setting", () => {
    let modelsDir: string;
    beforeEach(() => (modelsDir = mkdtempSync(join(tmpdir(), 'preset-models-'))));
    afterEach(() => rmSync(modelsDir, { recursive: true, force: true }));
    const load = (dir: string) => loadTextDetector({ preset: 'default', modelsDir: dir, threads: 1, useTensorRt: false });

    it('a file that is no ONNX model', async () => {
      writeFileSync(join(modelsDir, getPreset('default').modelFile), 'not a model');
      await expect(load(modelsDir)).rejects.toThrow(/ \(the model of preset default, MODEL_PATH is unset\): it is no ONNX model/);
    });

    it('a file that is missing, where it was looked for', async () => {
      const path = join(modelsDir, getPreset('default').modelFile);
      await expect(load(relative(process.cwd(), modelsDir))).rejects.toThrow(`(${path}, the model of preset default, MODEL_PATH is unset); set MODEL_PATH to the model's full path`);
    });
  });

  it('rejects an unknown preset by name', async () => {
    await expect(loadTextDetector({ preset: 'fastest', modelPath: MODEL, threads: 1, useTensorRt: false })).rejects.toThrow(
      'unknown detection preset "fastest"; valid presets: seed, default',
    );
  });
});

/** A detector's backend as a TensorRT engine presents itself; no test here runs it (no GPU, no TensorRT). */
const ENGINE: InferenceBackend = {
  name: 'tensorrt',
  modelId: 'ch_PP-OCRv4_det_infer@00000000',
  modelSha256: '0'.repeat(64),
  load: () => Promise.resolve(),
  run: () => Promise.reject(new Error('not run in this test')),
  dispose: () => Promise.resolve(),
};

describe('reconfigureDetector', () => {
  const engineDetector = () => new TextDetector(ENGINE, customizePreset('default', {}), join(MODELS, 'ch_PP-OCRv4_det_infer.onnx'));
  // The addon cannot load from there, so a new engine fails to build: what shows that one was asked for.
  const patch = (overrides: PresetOverrides, tensorRtProfile?: TensorRtProfile) =>
    ({ preset: 'default', modelsDir: MODELS, overrides, threads: 1, useTensorRt: false, backend: 'tensorrt', tensorRtAddonPath: '/nonexistent/tensorrt.node', tensorRtProfile }) as const;

  it("changes the postprocessing of a TensorRT engine's preset in place", async () => {
    const detector = engineDetector();
    await reconfigureDetector(detector, patch({ thresh: 0.4 }));
    expect(detector.backend).toBe(ENGINE);
    expect(detector.preset.postprocess.thresh).toBe(0.4);
  });

  it("builds another engine for a limitSideLen outside the engine's profile, rather than one that refuses every frame", async () => {
    const detector = engineDetector();
    await expect(reconfigureDetector(detector, patch({ limitSideLen: 1280 }))).rejects.toThrow('TensorRT was requested');
    expect(detector.backend).toBe(ENGINE);
    expect(detector.preset.resize).toEqual({ kind: 'limit', limitSideLen: 960, limitType: 'max' });
  });

  it("says a preset's own model it reads again for another engine is the preset's, MODEL_PATH unset, where its input was known", async () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'preset-models-'));
    try {
      const known = checkedModelInput(await readModelFile(join(MODELS, 'ch_PP-OCRv4_det_infer.onnx')), { batch: 1, frames: true });
      // The running engine's file, gone since it was built.
      const detector = new TextDetector(ENGINE, customizePreset('default', {}), join(modelsDir, 'ch_PP-OCRv4_det_infer.onnx'), 1, known);
      await expect(reconfigureDetector(detector, { ...patch({ limitSideLen: 1280 }), modelsDir })).rejects.toThrow(/no such file \(the model of preset default, MODEL_PATH is unset\)$/);
    } finally {
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });

  it('keeps an engine built for TENSORRT_PROFILE, which the preset did not choose', async () => {
    const detector = engineDetector();
    await reconfigureDetector(detector, patch({ limitSideLen: 1280 }, parseTensorRtProfile('32x32,1280x1280,1280x1280')));
    expect(detector.backend).toBe(ENGINE);
    expect(detector.preset.resize).toEqual({ kind: 'limit', limitSideLen: 1280, limitType: 'max' });
  });
});
