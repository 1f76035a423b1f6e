import { resizeBilinearU8, type ImageView } from '@iev/text-detection';

/** PP-OCRv3/v4 recognition input: 3x48xW (rec_image_shape "3,48,320"). */
export const REC_HEIGHT = 48;
/**
 * PaddleOCR pads every batch to at least 320 wide; we pad only to the batch's widest crop (at least square):
 * the same reads on testdata/text-frames and four held-out sets (measured), and a short word costs a fraction.
 */
export const REC_MIN_WIDTH = REC_HEIGHT;
/** PaddleOCR's rec_batch_num. */
export const REC_BATCH_SIZE = 6;

export interface RecognitionBatch {
  /** Indices into the crops passed to planBatches, in the order their rows fill the tensor. */
  indices: number[];
  /** The batch's input width: the widest crop's at height 48, and at least REC_MIN_WIDTH. */
  width: number;
}

const aspect = (crop: { width: number; height: number }) => crop.width / crop.height;

/**
 * PaddleOCR's batching: crops sorted by aspect ratio, then taken `batchSize` at a time, so crops of similar
 * shape share a batch and little of the tensor is padding. Each batch is as wide as its widest crop needs.
 */
export function planBatches(crops: readonly { width: number; height: number }[], batchSize = REC_BATCH_SIZE): RecognitionBatch[] {
  const order = crops.map((_, index) => index).sort((a, b) => aspect(crops[a]) - aspect(crops[b]));
  const batches: RecognitionBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const widest = Math.max(REC_MIN_WIDTH / REC_HEIGHT, ...indices.map((index) => aspect(crops[index])));
    batches.push({ indices, width: Math.trunc(REC_HEIGHT * widest) });
  }
  return batches;
}

/**
 * PaddleOCR's resize_norm_img for one crop into row `row` of a [N,3,48,width] float32 tensor: resized to height 48
 * keeping its aspect ratio (bilinear, as cv2.resize; no wider than the batch), scaled to [-1, 1] channel by channel
 * in BGR order, the rest of the row left as zero padding (the tensor must start zeroed).
 */
export function writeRecognitionInput(crop: ImageView, tensor: Float32Array, row: number, width: number): void {
  const resizedWidth = Math.min(width, Math.ceil(REC_HEIGHT * (crop.width / crop.height)));
  const resized = resizeBilinearU8(crop, resizedWidth, REC_HEIGHT);
  const plane = REC_HEIGHT * width;
  const base = row * 3 * plane;
  for (let y = 0; y < REC_HEIGHT; y++) {
    for (let x = 0; x < resizedWidth; x++) {
      const from = y * resized.stride + x * 3;
      const to = base + y * width + x;
      tensor[to] = resized.data[from] / 127.5 - 1;
      tensor[to + plane] = resized.data[from + 1] / 127.5 - 1;
      tensor[to + 2 * plane] = resized.data[from + 2] / 127.5 - 1;
    }
  }
}
