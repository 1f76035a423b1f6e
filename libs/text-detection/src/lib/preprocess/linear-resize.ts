import type { NormalizeOptions } from '../types';
import { COLUMN_TAP_BYTES, COLUMN_WEIGHTS_OFFSET, ROW_SAMPLE_BYTES, SOURCE_OVERRUN_BYTES, type Kernels } from './kernels';
import { linearTaps, type LinearTaps } from './linear-taps';

/** Where a resize writes, in kernel memory: 8-bit BGR rows, or normalized float32 planes (CHW). */
export type ResizeTarget =
  | { kind: 'bgr'; address: number; stride: number }
  | { kind: 'planes'; address: number; normalize: NormalizeOptions };

const CHANNELS = 3;
const ROW_CACHE_SLOTS = 2;

/**
 * One OpenCV INTER_LINEAR resize between fixed sizes of 3-channel 8-bit images, run by the kernels in
 * two passes: each source row that is needed is resized horizontally once into a two-row cache
 * (upscaling reuses it for several output rows), then pairs of cached rows are blended vertically
 * straight into the target. Equal sizes give an exact copy.
 */
export class LinearResize {
  private readonly rows: LinearTaps;
  private readonly columnTaps: number;
  private readonly columnTapsEnd: number;
  private readonly planeBytes: number;
  private readonly cacheAddresses: number[];
  private readonly cachedRows = new Int32Array(ROW_CACHE_SLOTS);

  /** Kernel memory one resize to `width` columns needs for its column taps and row cache. */
  static workspaceBytes(width: number): number {
    return width * COLUMN_TAP_BYTES + ROW_CACHE_SLOTS * CHANNELS * LinearResize.planeBytes(width);
  }

  /** Kernel memory to reserve for a source image of `byteLength` bytes: the horizontal pass reads a little past it. */
  static sourceRegionBytes(byteLength: number): number {
    return byteLength + SOURCE_OVERRUN_BYTES;
  }

  private static planeBytes(width: number): number {
    return Math.ceil((width * ROW_SAMPLE_BYTES) / 16) * 16;
  }

  constructor(
    private readonly kernels: Kernels,
    sourceWidth: number,
    sourceHeight: number,
    private readonly width: number,
    private readonly height: number,
    workspace: number,
  ) {
    this.rows = linearTaps(sourceHeight, height, 'rows');
    this.columnTaps = workspace;
    this.columnTapsEnd = workspace + width * COLUMN_TAP_BYTES;
    this.planeBytes = LinearResize.planeBytes(width);
    this.cacheAddresses = [this.columnTapsEnd, this.columnTapsEnd + CHANNELS * this.planeBytes];

    // The column table, laid out as the horizontal kernel reads it (see COLUMN_TAP_BYTES).
    const columns = linearTaps(sourceWidth, width, 'columns');
    const asInt32 = new Int32Array(kernels.memory.buffer, workspace, (width * COLUMN_TAP_BYTES) / 4);
    const asInt16 = new Int16Array(kernels.memory.buffer, workspace, (width * COLUMN_TAP_BYTES) / 2);
    for (let x = 0; x < width; x++) {
      const column = x * COLUMN_TAP_BYTES;
      asInt32[column / 4] = columns.first[x] * CHANNELS;
      for (let c = 0; c < CHANNELS; c++) {
        asInt16[(column + COLUMN_WEIGHTS_OFFSET) / 2 + 2 * c] = columns.firstWeight[x];
        asInt16[(column + COLUMN_WEIGHTS_OFFSET) / 2 + 2 * c + 1] = columns.secondWeight[x];
      }
    }
  }

  run(source: number, sourceStride: number, target: ResizeTarget): void {
    const { kernels, planeBytes, width } = this;
    const { first, second, firstWeight, secondWeight } = this.rows;
    this.cachedRows.fill(-1);
    for (let y = 0; y < this.height; y++) {
      const top = this.horizontallyResized(first[y], second[y], source, sourceStride);
      const bottom = this.horizontallyResized(second[y], first[y], source, sourceStride);
      const topWeight = firstWeight[y];
      const bottomWeight = secondWeight[y];
      if (target.kind === 'bgr') {
        const out = target.address + y * target.stride;
        for (let c = 0; c < CHANNELS; c++) {
          kernels.blendRowsToU8(top + c * planeBytes, bottom + c * planeBytes, out + c, width, CHANNELS, topWeight, bottomWeight);
        }
      } else {
        const { scale, mean, std } = target.normalize;
        const out = target.address + y * width * 4;
        const outPlaneBytes = width * this.height * 4;
        for (let c = 0; c < CHANNELS; c++) {
          const channelOut = out + c * outPlaneBytes;
          kernels.blendRowsNormalized(top + c * planeBytes, bottom + c * planeBytes, channelOut, width, topWeight, bottomWeight, scale, mean[c], std[c]);
        }
      }
    }
  }

  /** The cache slot holding source row `row` resized horizontally; computes it, if missing, over the slot not holding `keep`. */
  private horizontallyResized(row: number, keep: number, source: number, sourceStride: number): number {
    const { cachedRows, cacheAddresses } = this;
    if (cachedRows[0] === row) return cacheAddresses[0];
    if (cachedRows[1] === row) return cacheAddresses[1];
    const slot = cachedRows[0] === keep ? 1 : 0;
    const { columnTaps, columnTapsEnd, planeBytes } = this;
    this.kernels.resizeRowHorizontally(source + row * sourceStride, columnTaps, columnTapsEnd, cacheAddresses[slot], planeBytes);
    cachedRows[slot] = row;
    return cacheAddresses[slot];
  }
}
