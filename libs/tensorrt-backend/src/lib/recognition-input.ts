import { REC_BATCH_SIZE, REC_HEIGHT, REC_MIN_WIDTH } from '@iev/text-recognition';
import { checkNchw, InputShapeError, type TensorRtModelInput } from './model-input';
import type { NativeProfile, NativeShape } from './tensorrt-addon';

/**
 * The widest recognition input a TensorRT engine takes: lines up to 33:1 (1600 / 48) are read at their own width.
 * The widest line in testdata/text-frames is 9.2:1 (443 at height 48), PaddleOCR's own input is 320, and the
 * output, [6, 200, 6625] floats (30 MiB), still suits a Jetson. TextRecognizer squashes a wider line into it, as
 * PaddleOCR's resize_norm_img does for a line wider than its input, because the engine never takes a shape
 * outside its profile.
 */
export const REC_MAX_WIDTH = 1600;
/** PaddleOCR's rec_image_shape width (3,48,320), which holds the lines of a typical sign (median 5:1 to 6:1 here). */
export const REC_OPT_WIDTH = 320;

const shape = (batch: number, width: number): NativeShape => [batch, 3, REC_HEIGHT, width];
const formatShape = (dims: readonly number[]) => dims.join('x');

/** A recognition input as TensorRtBackend sees it, with the widest batch it takes, which TextRecognizer keeps to. */
export interface RecognitionModelInput extends TensorRtModelInput {
  readonly maxWidth: number;
}

/**
 * PaddleOCR's CTC recognition model [N, 3, 48, W] with a dynamic batch (1 to TextRecognizer's REC_BATCH_SIZE) and
 * width (REC_MIN_WIDTH, the narrowest batch TextRecognizer makes, to `maxWidth`), tuned for a full batch of
 * PaddleOCR's own width: the first frames of a scene come as full batches of new lines, when latency counts most.
 */
export function recognitionInput(maxWidth = REC_MAX_WIDTH): RecognitionModelInput {
  if (!Number.isInteger(maxWidth) || maxWidth < REC_MIN_WIDTH) throw new RangeError(`the recognition input's maximum width must be a whole number >= ${REC_MIN_WIDTH} (got ${maxWidth})`);
  const profile: NativeProfile = { min: shape(1, REC_MIN_WIDTH), opt: shape(REC_BATCH_SIZE, Math.min(REC_OPT_WIDTH, maxWidth)), max: shape(REC_BATCH_SIZE, maxWidth) };
  const describe = () => [profile.min, profile.opt, profile.max].map(formatShape).join(',');
  return {
    profile,
    maxWidth,
    describe,
    check(dims): asserts dims is NativeShape {
      checkNchw(dims, `[N, 3, ${REC_HEIGHT}, W]`);
      const [batch, , height, width] = dims;
      if (height !== REC_HEIGHT) throw new RangeError(`tensorrt: input must be [N, 3, ${REC_HEIGHT}, W] float32, got [${dims.join(', ')}]`);
      if (batch > REC_BATCH_SIZE || width < REC_MIN_WIDTH || width > maxWidth) {
        throw new InputShapeError(
          `recognition input ${formatShape(dims)} is outside the TensorRT profile ${describe()}: batch at most ${REC_BATCH_SIZE} and width from ` +
            `${REC_MIN_WIDTH} to ${maxWidth}, which TextRecognizer keeps to (it squashes a wider line into ${maxWidth})`,
        );
      }
    },
  };
}
