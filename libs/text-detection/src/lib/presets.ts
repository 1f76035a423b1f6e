import type { Size } from './preprocess/det-resize-shape';
import type { DbPostprocessOptions, DetectionPreset, NormalizeOptions } from './types';

export type PresetName = 'seed' | 'default';

/** PaddleOCR's NormalizeImage defaults (ImageNet statistics), applied to BGR channels as they come. */
const PADDLE_NORMALIZE: NormalizeOptions = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

const SEED_POSTPROCESS: DbPostprocessOptions = {
  thresh: 0.3,
  boxThresh: 0.5,
  maxCandidates: 1000,
  unclipRatio: 2.0,
  useDilation: false,
  scoreMode: 'fast',
  minSize: 3,
};

export const PRESETS: Readonly<Record<PresetName, DetectionPreset>> = {
  /** The original Python sample: every frame squashed to 960x960, then DetResizeForTest (min side 736). */
  seed: {
    name: 'seed',
    modelFile: 'ch_pp_inf_dynamic.onnx',
    preResize: { width: 960, height: 960 },
    resize: { kind: 'limit', limitSideLen: 736, limitType: 'min' },
    normalize: PADDLE_NORMALIZE,
    postprocess: SEED_POSTPROCESS,
  },
  /**
   * PaddleOCR's current defaults with its PP-OCRv4 detection model, the one its recognition model reads after: the
   * frame keeps its aspect ratio (longest side at most 960, so 640x480 runs at 640x480), box_thresh 0.6,
   * unclip_ratio 1.5. The settings were chosen by measurement with the sample's model on testdata/text-frames
   * (hmean dev-a 0.885, dev-b 0.889 against seed's 0.816 / 0.971; neighbours: unclip 1.8 / 2.0 lose 0.03-0.05,
   * limit 1280 loses on dev-b). PP-OCRv4's model keeps a line with spaces in one box where the sample's splits it
   * into words, which reading needs: detection hmean 0.962 / 0.971 on dev-a / dev-b, 0.94-0.99 on held-out
   * frames of other sizes where the sample's model scored 0.75-0.93.
   */
  default: {
    name: 'default',
    modelFile: 'ch_PP-OCRv4_det_infer.onnx',
    resize: { kind: 'limit', limitSideLen: 960, limitType: 'max' },
    normalize: PADDLE_NORMALIZE,
    postprocess: { ...SEED_POSTPROCESS, boxThresh: 0.6, unclipRatio: 1.5 },
  },
};

/** A copy of the named preset, which the caller may adjust. */
export function getPreset(name: string): DetectionPreset {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new Error(`unknown detection preset "${name}"; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  }
  return structuredClone(PRESETS[name as PresetName]);
}

/** Settings a user may change on top of a preset (PaddleOCR's det_db_thresh, det_db_box_thresh, ...). */
export interface PresetOverrides {
  thresh?: number;
  boxThresh?: number;
  unclipRatio?: number;
  /** DetResizeForTest's limit_side_len; only for presets that resize by a side limit. */
  limitSideLen?: number;
}

/**
 * The named preset with the given settings changed; unset overrides keep the preset's own values. A model whose input
 * is fixed at one size (`modelInputSize`) takes frames resized to exactly that size whatever the preset's resize, as
 * PaddleOCR's DetResizeForTest does given image_shape; limitSideLen cannot apply to it.
 */
export function customizePreset(name: string, overrides: PresetOverrides, modelInputSize?: Size): DetectionPreset {
  const preset = getPreset(name);
  const { thresh, boxThresh, unclipRatio, limitSideLen } = overrides;
  if (thresh !== undefined) preset.postprocess.thresh = thresh;
  if (boxThresh !== undefined) preset.postprocess.boxThresh = boxThresh;
  if (unclipRatio !== undefined) preset.postprocess.unclipRatio = unclipRatio;
  if (limitSideLen !== undefined) {
    if (modelInputSize) {
      const { width, height } = modelInputSize;
      throw new Error(`limitSideLen ${limitSideLen} does not apply: the detection model's input is fixed at ${width}x${height}, the size every frame is resized to`);
    }
    if (preset.resize.kind !== 'limit') throw new Error(`preset "${name}" resizes to a fixed size; limitSideLen does not apply`);
    preset.resize.limitSideLen = limitSideLen;
  }
  if (modelInputSize) preset.resize = { kind: 'fixed', width: modelInputSize.width, height: modelInputSize.height };
  return preset;
}
