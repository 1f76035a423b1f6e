import { ConfigError } from '@iev/service-runtime';
import { detResizeShape, type DetectionPreset } from '@iev/text-detection';
import { checkNchw, InputShapeError, type TensorRtModelInput } from './model-input';
import type { NativeProfile, NativeShape } from './tensorrt-addon';

/** A model input size in pixels (the network input is [batch, 3, height, width]). */
export interface InputSize {
  width: number;
  height: number;
}

/** TensorRT's optimization profile: the input sizes an engine accepts (min..max) and the one it is tuned for (opt). */
export interface TensorRtProfile {
  min: InputSize;
  opt: InputSize;
  max: InputSize;
}

/** The original sample's profile: 1x3x960x960 / 1280x1280 / 1536x1536, sized for its frames squashed to 960x960. */
export const SAMPLE_PROFILE: Readonly<TensorRtProfile> = Object.freeze({
  min: Object.freeze({ width: 960, height: 960 }),
  opt: Object.freeze({ width: 1280, height: 1280 }),
  max: Object.freeze({ width: 1536, height: 1536 }),
});

/** The DB network downsamples by 32, so every input side is a multiple of 32 (DetResizeForTest makes them so). */
export const INPUT_STRIDE = 32;

/** Whether both sides are whole multiples of INPUT_STRIDE, at least one stride long. */
const onStride = ({ width, height }: InputSize): boolean =>
  width >= INPUT_STRIDE && height >= INPUT_STRIDE && width % INPUT_STRIDE === 0 && height % INPUT_STRIDE === 0;

/**
 * The profile an engine is built with when TENSORRT_PROFILE is unset. A fixed resize (a model whose input is fixed at
 * one size: customizePreset) feeds that size alone, the only one such a model's engine can be built for. Presets that
 * squash frames to a fixed size first feed one input size (`seed`: 960x960): the sample's min and max, tuned (opt) for
 * that size, which the sample's own 1280x1280 never was. Other presets get one that covers every input they can
 * produce (`default` on 640x480 video runs at 640x480, below the sample's 960x960 minimum), tuned for the preset's
 * largest input.
 */
export function profileForPreset(preset: DetectionPreset | undefined): TensorRtProfile {
  if (!preset) return structuredClone(SAMPLE_PROFILE) as TensorRtProfile;
  const { preResize, resize } = preset;
  if (resize.kind === 'fixed') {
    const size = { width: resize.width, height: resize.height };
    return { min: { ...size }, opt: { ...size }, max: { ...size } };
  }
  if (preResize) {
    const fed = detResizeShape(preResize.height, preResize.width, resize);
    const { min, max } = SAMPLE_PROFILE;
    return {
      min: { width: Math.min(min.width, fed.width), height: Math.min(min.height, fed.height) },
      opt: { width: fed.width, height: fed.height },
      max: { width: Math.max(max.width, fed.width), height: Math.max(max.height, fed.height) },
    };
  }
  const largest = resize.limitType === 'max' || resize.limitType === 'resize_long' ? { width: resize.limitSideLen, height: resize.limitSideLen } : SAMPLE_PROFILE.max;
  const roundUp = (side: number) => Math.ceil(side / INPUT_STRIDE) * INPUT_STRIDE;
  const max = { width: roundUp(largest.width), height: roundUp(largest.height) };
  return { min: { width: INPUT_STRIDE, height: INPUT_STRIDE }, opt: { ...max }, max };
}

/**
 * The profile a detection engine is built with: TENSORRT_PROFILE (`asked`) where set, else profileForPreset's. A model
 * whose input is fixed at one size (a fixed resize) has an engine for that size alone, so any other TENSORRT_PROFILE
 * is refused here, naming the variable, rather than by a failed engine build.
 */
export function engineProfile(preset: DetectionPreset | undefined, asked?: TensorRtProfile): TensorRtProfile {
  const own = profileForPreset(preset);
  if (!asked) return own;
  if (preset?.resize.kind === 'fixed' && formatProfile(asked) !== formatProfile(own)) {
    throw new ConfigError([
      `TENSORRT_PROFILE=${formatProfile(asked)} cannot be built for this model: its input is fixed at ${formatSize(own.opt)}, ` +
        `the one size its engine takes; leave TENSORRT_PROFILE unset (or set it to ${formatProfile(own)})`,
    ]);
  }
  return asked;
}

export const formatSize = ({ width, height }: InputSize): string => `${width}x${height}`;

export const formatProfile = (profile: TensorRtProfile): string => [profile.min, profile.opt, profile.max].map(formatSize).join(',');

/**
 * Parses `min,opt,max` sizes written WIDTHxHEIGHT, e.g. "960x960,1280x1280,1536x1536". Throws an Error whose
 * message says what is expected (the configuration reader prefixes the variable's name).
 */
export function parseTensorRtProfile(text: string): TensorRtProfile {
  const parts = text.split(',').map((part) => part.trim());
  const sizes = parts.map((part) => /^(\d+)x(\d+)$/i.exec(part));
  if (sizes.length !== 3 || sizes.some((size) => !size)) {
    throw new Error('must be three sizes WIDTHxHEIGHT for min,opt,max, e.g. 960x960,1280x1280,1536x1536');
  }
  const [min, opt, max] = sizes.map((size) => ({ width: Number(size?.[1]), height: Number(size?.[2]) }));
  const notStrided = [min, opt, max].find((size) => !onStride(size));
  if (notStrided) throw new Error(`must have sides that are multiples of ${INPUT_STRIDE} (at least ${INPUT_STRIDE}); ${formatSize(notStrided)} is not`);
  const ordered = (a: InputSize, b: InputSize) => a.width <= b.width && a.height <= b.height;
  if (!ordered(min, opt) || !ordered(opt, max)) throw new Error(`must have min <= opt <= max in both sides (got ${text.trim()})`);
  return { min, opt, max };
}

/**
 * Checks a model input size against the engine's profile. An input outside it is an error rather than clamped
 * or padded: either would change the model input, and so the detections, against the CPU path. The message
 * names the profile that would cover it.
 */
export function checkInputSize(profile: TensorRtProfile, size: InputSize): void {
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || !onStride(size)) {
    throw new InputShapeError(`model input ${formatSize(size)} is not a multiple of ${INPUT_STRIDE} in both sides, as the DB model needs`);
  }
  const { min, max } = profile;
  if (width >= min.width && height >= min.height && width <= max.width && height <= max.height) return;
  const covering: TensorRtProfile = {
    min: { width: Math.min(min.width, width), height: Math.min(min.height, height) },
    opt: profile.opt,
    max: { width: Math.max(max.width, width), height: Math.max(max.height, height) },
  };
  throw new InputShapeError(
    `model input ${formatSize(size)} is outside the TensorRT profile (min ${formatSize(min)}, max ${formatSize(max)}); ` +
      `set TENSORRT_PROFILE to cover the input sizes of your frames and preset, e.g. TENSORRT_PROFILE=${formatProfile(covering)} ` +
      '(the engine is rebuilt once for the new profile)',
  );
}

const detectionShape = (batch: number, { width, height }: InputSize): NativeShape => [batch, 3, height, width];

/**
 * The DB detection model's input as TensorRtBackend sees it: [N, 3, H, W] within `profile`, N from 1 to `maxBatch`
 * (INFERENCE_BATCH). The engine is tuned for full batches, which a busy scheduler sends; a single frame still runs.
 */
export function detectionInput(profile: TensorRtProfile, maxBatch = 1): TensorRtModelInput {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`the detection input's batch must be a whole number >= 1 (got ${maxBatch})`);
  const nativeProfile: NativeProfile = { min: detectionShape(1, profile.min), opt: detectionShape(maxBatch, profile.opt), max: detectionShape(maxBatch, profile.max) };
  return {
    profile: nativeProfile,
    describe: () => `${formatProfile(profile)}${maxBatch > 1 ? `, batch 1 to ${maxBatch}` : ''}`,
    check(dims): asserts dims is NativeShape {
      checkNchw(dims, `[N, 3, H, W] with N at most ${maxBatch}`);
      if (dims[0] > maxBatch) {
        throw new InputShapeError(`tensorrt: a batch of ${dims[0]} frames is more than the engine's profile takes (${maxBatch}, set by INFERENCE_BATCH)`);
      }
      checkInputSize(profile, { width: dims[3], height: dims[2] });
    },
  };
}
