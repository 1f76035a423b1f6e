import { batchWidth, DYNAMIC_LINE_INPUT, REC_BATCH_SIZE, type LineInput } from '@iev/text-recognition';
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

const formatShape = (dims: readonly number[]) => dims.join('x');

/** A recognition input as TensorRtBackend sees it, with the widest batch it takes, which TextRecognizer keeps to. */
export interface RecognitionModelInput extends TensorRtModelInput {
  readonly maxWidth: number;
}

/**
 * PaddleOCR's CTC recognition model [N, 3, H, W] at the line height its file fixes (48 for PP-OCRv3 to v5, 32 for
 * earlier models; 48 where it is open), with a dynamic batch (1 to TextRecognizer's REC_BATCH_SIZE) and width (a
 * square line, the narrowest batch TextRecognizer makes, to REC_MAX_WIDTH), tuned for a full batch of PaddleOCR's own
 * width: the first frames of a scene come as full batches of new lines, when latency counts most. A width or batch the
 * file fixes is the profile's only one, as TextRecognizer makes every run to it.
 */
export function recognitionInput({ height, width, batch }: LineInput = DYNAMIC_LINE_INPUT): RecognitionModelInput {
  const widths = width === undefined ? [batchWidth(height), REC_OPT_WIDTH, REC_MAX_WIDTH] : [width, width, width];
  const batches = batch === undefined ? [1, REC_BATCH_SIZE, REC_BATCH_SIZE] : [batch, batch, batch];
  const [min, opt, max] = [0, 1, 2].map((i): NativeShape => [batches[i], 3, height, widths[i]]);
  const profile: NativeProfile = { min, opt, max };
  const describe = () => [profile.min, profile.opt, profile.max].map(formatShape).join(',');
  return {
    profile,
    maxWidth: widths[2],
    describe,
    check(dims): asserts dims is NativeShape {
      checkNchw(dims, `[N, 3, ${height}, W]`);
      const [rows, , rowHeight, rowWidth] = dims;
      if (rowHeight !== height) throw new RangeError(`tensorrt: input must be [N, 3, ${height}, W] float32, got [${dims.join(', ')}]`);
      if (rows < batches[0] || rows > batches[2] || rowWidth < widths[0] || rowWidth > widths[2]) {
        throw new InputShapeError(
          `recognition input ${formatShape(dims)} is outside the TensorRT profile ${describe()}: batch ${range(batches)} and width ${range(widths)}, ` +
            `which TextRecognizer keeps to (it squashes a wider line into ${widths[2]})`,
        );
      }
    },
  };
}

const range = ([least, , most]: readonly number[]) => (least === most ? `${least}` : `from ${least} to ${most}`);
