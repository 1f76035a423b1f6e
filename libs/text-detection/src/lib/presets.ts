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
    preResize: { width: 960, height: 960 },
    resize: { kind: 'limit', limitSideLen: 736, limitType: 'min' },
    normalize: PADDLE_NORMALIZE,
    postprocess: SEED_POSTPROCESS,
  },
  /** Keeps the frame's aspect ratio. Provisional: to be tuned by measured accuracy on the dev sets. */
  default: {
    name: 'default',
    resize: { kind: 'limit', limitSideLen: 960, limitType: 'max' },
    normalize: PADDLE_NORMALIZE,
    postprocess: SEED_POSTPROCESS,
  },
};

/** A copy of the named preset, which the caller may adjust. */
export function getPreset(name: string): DetectionPreset {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new Error(`unknown detection preset "${name}"; valid presets: ${Object.keys(PRESETS).join(', ')}`);
  }
  return structuredClone(PRESETS[name as PresetName]);
}
