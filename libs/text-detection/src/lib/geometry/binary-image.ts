/** Zero columns left of the image: OpenCV pads one; four keep every row's first pixel word-aligned. */
const LEFT_PADDING = 4;

/**
 * A 0/1 image inside a zero border: the layout OpenCV's findContours pads its input to, so pixels on the
 * image's edge still have background neighbours. Rows are word-aligned so they can be written and scanned
 * four pixels at a time.
 */
export class PaddedBinaryImage {
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

  /** Sets pixel (x, y) to map[y * width + x] > threshold, in one pass over the map. */
  threshold(map: Float32Array, width: number, height: number, threshold: number): void {
    if (map.length < width * height) {
      throw new RangeError(`map holds ${map.length} values, fewer than ${width}x${height}`);
    }
    this.resize(width, height);
    const { data, words, stride, firstPixel, rowHasForeground } = this;
    for (let y = 0; y < height; y++) {
      const row = firstPixel + y * stride;
      let i = y * width;
      let word = row >> 2;
      let any = 0;
      let x = 0;
      // Four pixels per store: this pass touches every pixel, so it dominates the postprocess.
      for (; x + 4 <= width; x += 4, i += 4) {
        const bits =
          (map[i] > threshold ? 1 : 0) |
          (map[i + 1] > threshold ? 0x100 : 0) |
          (map[i + 2] > threshold ? 0x10000 : 0) |
          (map[i + 3] > threshold ? 0x1000000 : 0);
        words[word++] = bits;
        any |= bits;
      }
      for (; x < width; x++, i++) {
        const bit = map[i] > threshold ? 1 : 0;
        data[row + x] = bit;
        any |= bit;
      }
      rowHasForeground[y] = any !== 0 ? 1 : 0;
    }
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

  private resize(width: number, height: number): void {
    const stride = (LEFT_PADDING + width + 1 + 3) & ~3;
    const size = stride * (height + 2);
    if (this.data.length < size) {
      this.data = new Int8Array(size);
      this.words = new Int32Array(this.data.buffer);
    } else if (stride !== this.stride || height !== this.height) {
      // A different layout over the old buffer: the border must be zero again.
      this.data.fill(0);
    }
    if (this.rowHasForeground.length < height) this.rowHasForeground = new Uint8Array(height);
    this.width = width;
    this.height = height;
    this.stride = stride;
    this.firstPixel = stride + LEFT_PADDING;
  }
}
