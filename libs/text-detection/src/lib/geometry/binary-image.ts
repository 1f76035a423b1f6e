import { layOut } from '../wasm/wasm-runtime';
import { createThresholdKernel } from './threshold-kernel';

/** Zero columns left of the image: OpenCV pads one; four keep every row's first pixel word-aligned. */
const LEFT_PADDING = 4;

/**
 * A 0/1 image inside a zero border: the layout OpenCV's findContours pads its input to, so pixels on the
 * image's edge still have background neighbours. Rows are word-aligned so they can be scanned four pixels at a
 * time. It lives in its threshold kernel's memory, beside room for the probability maps it is made from: a model
 * that writes its map there (mapMemory) has it thresholded without a copy.
 */
export class PaddedBinaryImage {
  private readonly kernel = createThresholdKernel();
  /** Pixel (x, y) lives at firstPixel + y * stride + x. Values other than 0/1 are contour-tracing marks. */
  data = new Int8Array(0);
  /** The same bytes, four at a time. */
  words = new Int32Array(0);
  /** Which image rows hold a foreground pixel: the others can hold no contour start. */
  rowHasForeground = new Uint8Array(0);
  width = 0;
  height = 0;
  stride = 0;
  firstPixel = 0;
  /** Room for maps of width x height, after the image in the kernel's memory. */
  private maps = new Float32Array(0);
  /** The view mapMemory last gave, kept while its layout stays so a tensor over it can be kept too. */
  private lentMaps = new Float32Array(0);

  /**
   * Memory for `count` maps of width x height, one after another, which threshold() then reads where they are: the
   * same view while the size and count stay (a view of the same length may come back for another size). A later
   * call for another size or a larger count may move it.
   */
  mapMemory(width: number, height: number, count: number): Float32Array {
    const length = width * height * count;
    this.layOut(width, height, length);
    if (this.lentMaps.buffer !== this.maps.buffer || this.lentMaps.byteOffset !== this.maps.byteOffset || this.lentMaps.length !== length) {
      this.lentMaps = this.maps.subarray(0, length);
    }
    return this.lentMaps;
  }

  /**
   * Sets pixel (x, y) to map[y * width + x] > threshold, in one pass over the map, comparing in float32 (the
   * threshold is rounded to float32, as PaddleOCR's numpy comparison does). Returns the map to read from
   * afterwards: `map` itself, or a copy where it lay in this image's memory for another size (laying out the image
   * for this size may have moved or overwritten it).
   */
  threshold(map: Float32Array, width: number, height: number, threshold: number): Float32Array {
    if (map.length < width * height) {
      throw new RangeError(`map holds ${map.length} values, fewer than ${width}x${height}`);
    }
    const inKernelMemory = map.buffer === this.kernel.memory.buffer;
    if (inKernelMemory && width === this.width && height === this.height) {
      this.run(map.byteOffset, threshold);
      return map;
    }
    const values = inKernelMemory ? map.slice(0, width * height) : map;
    this.layOut(width, height, width * height);
    this.maps.set(values.subarray(0, width * height));
    this.run(this.maps.byteOffset, threshold);
    return values;
  }

  private run(map: number, threshold: number): void {
    this.kernel.threshold(map, this.width, this.height, threshold, this.data.byteOffset + this.firstPixel, this.stride, this.rowHasForeground.byteOffset);
  }

  /**
   * cv2.dilate with a 2x2 kernel of ones (default anchor, its bottom-right cell): a pixel becomes the OR of
   * itself and its left, upper and upper-left neighbours.
   */
  dilate2x2(): void {
    const { data, stride, firstPixel, width, height, rowHasForeground } = this;
    // Bottom-up and right-to-left, so every pixel still reads undilated neighbours; the zero border stands in
    // for OpenCV's border value.
    for (let y = height - 1; y >= 0; y--) {
      const row = firstPixel + y * stride;
      const above = row - stride;
      let any = 0;
      for (let x = width - 1; x >= 0; x--) {
        const bit = data[row + x] | data[row + x - 1] | data[above + x] | data[above + x - 1];
        data[row + x] = bit;
        any |= bit;
      }
      rowHasForeground[y] = any;
    }
  }

  /**
   * Lays out the image for width x height and at least `mapValues` of map room, keeping the layout (and what the
   * maps hold) when it already fits.
   */
  private layOut(width: number, height: number, mapValues: number): void {
    const memory = this.kernel.memory;
    if (width === this.width && height === this.height && mapValues <= this.maps.length && this.data.buffer === memory.buffer) return;
    const stride = (LEFT_PADDING + width + 1 + 3) & ~3;
    const imageBytes = stride * (height + 2);
    const mapRoom = Math.max(mapValues, width * height);
    const [flags, image, maps] = layOut(memory, [height, imageBytes, mapRoom * 4]);
    this.rowHasForeground = new Uint8Array(memory.buffer, flags, height);
    this.data = new Int8Array(memory.buffer, image, imageBytes);
    this.words = new Int32Array(memory.buffer, image, imageBytes / 4);
    this.maps = new Float32Array(memory.buffer, maps, mapRoom);
    // The border must be zero, and the memory may hold an earlier layout.
    this.data.fill(0);
    this.width = width;
    this.height = height;
    this.stride = stride;
    this.firstPixel = stride + LEFT_PADDING;
  }
}
