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

/**
 * The size lines are fed to the recognition model at: its input's height (rec_image_shape's, 48 unless the model
 * fixes another), and its width and batch where it fixes them.
 */
export interface LineInput {
  height: number;
  /**
   * Every batch this wide, a longer line squashed into it: PaddleOCR's resize_norm_img given a model whose imgW is
   * fixed. Unset: each batch as wide as its widest line.
   */
  width?: number;
  /**
   * Every run exactly this many lines, a short run padded with blank ones. Padding is taken rather than refused: a
   * blank row costs one line's compute and its output is never read, which is what an export fixed at N asks for.
   * Unset: runs of 1 to REC_BATCH_SIZE lines.
   */
  batch?: number;
}

/** PP-OCRv3/v4's own input [N, 3, 48, W]: 48 high, any width and batch. */
export const DYNAMIC_LINE_INPUT: LineInput = { height: REC_HEIGHT };

/** How lines run on a model that fixes something beyond PP-OCR's 48-pixel height, for the log line at load. */
export function describeLineInput({ height, width, batch }: LineInput): string {
  const size = `every line is resized to height ${height}${width === undefined ? '' : ` and padded to width ${width} (a longer one squashed into it)`}`;
  if (batch === undefined) return size;
  return `${size}, ${batch === 1 ? 'one line a run' : `${batch} lines a run (fewer padded with blank lines)`}`;
}

export interface RecognitionBatch {
  /** Indices into the crops passed to planBatches, in the order their rows fill the tensor. */
  indices: number[];
  /** The batch's input width: the width the model fixes, else the widest crop's at the line height, at least square. */
  width: number;
}

const aspect = (crop: { width: number; height: number }) => crop.width / crop.height;

export interface BatchPlanning {
  /** The most lines in one batch (default PaddleOCR's rec_batch_num, 6); the model's own batch where it fixes one. */
  batchSize?: number;
  /**
   * What one run of the model costs beyond its lines, in columns of a 48-high line. Given, crops of very different
   * widths go in separate batches when padding the short ones would cost more than another run: on ONNX Runtime's
   * CPU a batch costs about its lines times its width (1x160 13.5 ms, 6x160 64.9 ms, 6x640 343 ms, one thread), so a
   * 640-wide line with five 160-wide ones reads in 99 ms as two batches, 343 ms as one. Undefined: runs cost alike
   * whatever their size (a GPU), and crops are taken `batchSize` at a time as PaddleOCR does.
   */
  runCostColumns?: number;
  /** The model's line input (default DYNAMIC_LINE_INPUT). */
  lineInput?: LineInput;
}

/** A batch's width at this line height for its widest line's aspect ratio, never narrower than a square line. */
export const batchWidth = (height: number, widestAspect = 0): number => Math.trunc(height * Math.max(REC_MIN_WIDTH / REC_HEIGHT, widestAspect));

/**
 * PaddleOCR's batching: crops sorted by aspect ratio, so crops of similar shape share a batch and little of the
 * tensor is padding, then taken `batchSize` at a time, or (with `runCostColumns`) in the runs of consecutive crops
 * that cost the least in all. Each batch is as wide as its widest crop needs, or as the model's input fixes.
 */
export function planBatches(crops: readonly { width: number; height: number }[], { batchSize = REC_BATCH_SIZE, runCostColumns, lineInput = DYNAMIC_LINE_INPUT }: BatchPlanning = {}): RecognitionBatch[] {
  const order = crops.map((_, index) => index).sort((a, b) => aspect(crops[a]) - aspect(crops[b]));
  const { height, width, batch } = lineInput;
  const widthOf = (indices: number[]) => width ?? batchWidth(height, Math.max(...indices.map((index) => aspect(crops[index]))));
  // A fixed width makes every line cost alike, and a fixed batch makes a run cost all its rows however few hold lines
  // (which cheapestEnds does not weigh): either way full runs, as PaddleOCR takes them.
  const takesFullRuns = runCostColumns === undefined || width !== undefined || batch !== undefined;
  const ends = takesFullRuns ? fixedEnds(order.length, batch ?? batchSize) : cheapestEnds(order.map((index) => widthOf([index])), batchSize, runCostColumns);
  return ends.map((end, i) => {
    const indices = order.slice(i === 0 ? 0 : ends[i - 1], end);
    return { indices, width: widthOf(indices) };
  });
}

/** Where each batch of `count` sorted crops ends, `batchSize` at a time. */
function fixedEnds(count: number, batchSize: number): number[] {
  return Array.from({ length: Math.ceil(count / batchSize) }, (_, i) => Math.min(count, (i + 1) * batchSize));
}

/**
 * Where each batch ends in the cheapest split of crops of these widths (ascending) into runs of at most
 * `batchSize`: a run costs runCostColumns plus its lines times its widest (its last), found by dynamic programming.
 */
function cheapestEnds(widths: readonly number[], batchSize: number, runCostColumns: number): number[] {
  const cost = [0];
  const start = [0];
  for (let end = 1; end <= widths.length; end++) {
    cost[end] = Number.POSITIVE_INFINITY;
    for (let from = Math.max(0, end - batchSize); from < end; from++) {
      const total = cost[from] + runCostColumns + (end - from) * widths[end - 1];
      if (total < cost[end]) [cost[end], start[end]] = [total, from];
    }
  }
  const ends: number[] = [];
  for (let end = widths.length; end > 0; end = start[end]) ends.unshift(end);
  return ends;
}

/**
 * PaddleOCR's resize_norm_img for one crop into row `row` of a [N,3,height,width] float32 tensor: resized to
 * `height` keeping its aspect ratio (bilinear, as cv2.resize; no wider than the batch), scaled to [-1, 1] channel by
 * channel in BGR order, the rest of the row left as zero padding (the tensor must start zeroed).
 */
export function writeRecognitionInput(crop: ImageView, tensor: Float32Array, row: number, width: number, height = REC_HEIGHT): void {
  const resizedWidth = Math.min(width, Math.ceil(height * (crop.width / crop.height)));
  const resized = resizeBilinearU8(crop, resizedWidth, height);
  const plane = height * width;
  const base = row * 3 * plane;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < resizedWidth; x++) {
      const from = y * resized.stride + x * 3;
      const to = base + y * width + x;
      tensor[to] = resized.data[from] / 127.5 - 1;
      tensor[to + plane] = resized.data[from + 1] / 127.5 - 1;
      tensor[to + 2 * plane] = resized.data[from + 2] / 127.5 - 1;
    }
  }
}
