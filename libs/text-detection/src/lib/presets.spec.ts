import { customizePreset, getPreset, PRESETS } from './presets';

describe('presets', () => {
  it('seed reproduces the original sample: 960x960 squash, DetResize min 736, PaddleOCR normalize and DB thresholds', () => {
    expect(getPreset('seed')).toEqual({
      name: 'seed',
      modelFile: 'ch_pp_inf_dynamic.onnx',
      preResize: { width: 960, height: 960 },
      resize: { kind: 'limit', limitSideLen: 736, limitType: 'min' },
      normalize: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      postprocess: { thresh: 0.3, boxThresh: 0.5, maxCandidates: 1000, unclipRatio: 2.0, useDilation: false, scoreMode: 'fast', minSize: 3 },
    });
  });

  it("default keeps the aspect ratio, limiting the long side to 960, with PaddleOCR's current box_thresh and unclip_ratio", () => {
    const preset = getPreset('default');
    expect(preset.preResize).toBeUndefined();
    expect(preset.resize).toEqual({ kind: 'limit', limitSideLen: 960, limitType: 'max' });
    expect(preset.normalize).toEqual(PRESETS.seed.normalize);
    expect(preset.postprocess).toEqual({ ...PRESETS.seed.postprocess, boxThresh: 0.6, unclipRatio: 1.5 });
  });

  it('hands out copies, so adjusting one does not change the preset', () => {
    const preset = getPreset('seed');
    preset.postprocess.boxThresh = 0.9;
    expect(getPreset('seed').postprocess.boxThresh).toBe(0.5);
    expect(PRESETS.seed.postprocess.boxThresh).toBe(0.5);
  });

  it('rejects an unknown name, listing the valid ones', () => {
    expect(() => getPreset('fast')).toThrow('unknown detection preset "fast"; valid presets: seed, default');
    expect(() => getPreset('toString')).toThrow(/valid presets/);
  });
});

describe('customizePreset', () => {
  it('changes only the settings given', () => {
    const preset = customizePreset('seed', { boxThresh: 0.7, limitSideLen: 640 });
    expect(preset.postprocess).toEqual({ ...PRESETS.seed.postprocess, boxThresh: 0.7 });
    expect(preset.resize).toEqual({ kind: 'limit', limitSideLen: 640, limitType: 'min' });
    expect(preset.preResize).toEqual(PRESETS.seed.preResize);
    expect(PRESETS.seed.postprocess.boxThresh).toBe(0.5);
  });

  it("resizes to the size a model's input is fixed at, whatever the preset, and refuses limitSideLen then", () => {
    const size = { width: 640, height: 480 };
    expect(customizePreset('default', { thresh: 0.4 }, size)).toMatchObject({ resize: { kind: 'fixed', ...size }, postprocess: { thresh: 0.4 } });
    expect(customizePreset('seed', {}, size)).toMatchObject({ preResize: PRESETS.seed.preResize, resize: { kind: 'fixed', ...size } });
    expect(() => customizePreset('default', { limitSideLen: 1280 }, size)).toThrow(
      "limitSideLen 1280 does not apply: the detection model's input is fixed at 640x480, the size every frame is resized to",
    );
  });
});
