import type { NativeProfile, NativeShape } from './tensorrt-addon';

/**
 * What TensorRtBackend needs to know of its model's input: the optimization profile the engine is built with, and
 * which inputs it takes. One per model kind (detectionInput, recognitionInput).
 */
export interface TensorRtModelInput {
  /** As NCHW shapes; part of the engine cache key, and compared with a cached engine's own. */
  readonly profile: NativeProfile;
  /** The profile for log lines, e.g. "960x960,960x960,1536x1536". */
  describe(): string;
  /**
   * Throws for dims the engine does not take: a RangeError for a malformed shape, an InputShapeError naming what
   * would cover one outside the profile. Checked before the engine sees them: TensorRT's own refusal says less.
   */
  check(dims: readonly number[]): asserts dims is NativeShape;
}

export class InputShapeError extends RangeError {
  override readonly name = 'InputShapeError';
}

/** Throws unless dims are [batch, 3, height, width] of positive whole numbers; `expected` describes the model's input. */
export function checkNchw(dims: readonly number[], expected: string): asserts dims is NativeShape {
  if (dims.length !== 4 || !dims.every((dim) => Number.isInteger(dim) && dim > 0) || dims[1] !== 3) {
    throw new RangeError(`tensorrt: input must be ${expected} float32, got [${dims.join(', ')}]`);
  }
}
