import { PaddedBinaryImage } from './binary-image';

/** The image's pixels and row flags as plain arrays, read through its padded layout. */
function pixelsOf(image: PaddedBinaryImage): { pixels: number[]; rows: number[] } {
  const pixels: number[] = [];
  for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) pixels.push(image.data[image.firstPixel + y * image.stride + x]);
  return { pixels, rows: Array.from(image.rowHasForeground.subarray(0, image.height)) };
}

/** What thresholding means, one value at a time in float32. */
function expected(map: Float32Array, width: number, height: number, threshold: number): { pixels: number[]; rows: number[] } {
  const pixels = Array.from(map.subarray(0, width * height), (value) => (value > threshold ? 1 : 0));
  const rows = Array.from({ length: height }, (_, y) => (pixels.slice(y * width, (y + 1) * width).some(Boolean) ? 1 : 0));
  return { pixels, rows };
}

/** A map of values around the threshold, with the awkward ones (equal, NaN, infinities, negative zero) mixed in. */
function mapOf(length: number, seed: number, threshold: number): Float32Array {
  const awkward = [threshold, Math.fround(threshold), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1, 1];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Float32Array.from({ length }, () => (next() < 0.1 ? awkward[Math.floor(next() * awkward.length)] : next() * 2 * threshold));
}

describe('PaddedBinaryImage.threshold', () => {
  const threshold = Math.fround(0.3);

  it('is value > threshold for every pixel, and flags the rows that have one, for widths around the vector step', () => {
    const image = new PaddedBinaryImage();
    for (const [width, height] of [[1, 1], [15, 3], [16, 2], [17, 5], [33, 4], [64, 1], [100, 7], [641, 3]]) {
      const map = mapOf(width * height, width * 31 + height, threshold);
      image.threshold(map, width, height, threshold);
      expect(pixelsOf(image)).toEqual(expected(map, width, height, threshold));
    }
  });

  it('flags a row with no foreground as empty, including one whose only foreground would be in the tail', () => {
    const image = new PaddedBinaryImage();
    const map = new Float32Array(3 * 18);
    map[18 + 17] = 1;
    image.threshold(map, 18, 3, threshold);
    expect(pixelsOf(image).rows).toEqual([0, 1, 0]);
  });

  it('leaves the border zero, so a foreground edge pixel still has background neighbours', () => {
    const image = new PaddedBinaryImage();
    image.threshold(new Float32Array(20 * 3).fill(1), 20, 3, threshold);
    const { data, stride, firstPixel } = image;
    const border = [firstPixel - 1, firstPixel - stride, firstPixel + 20, firstPixel + 3 * stride, firstPixel + 2 * stride + 20];
    expect(border.map((at) => data[at])).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('PaddedBinaryImage.mapMemory', () => {
  const threshold = 0.5;

  it('gives the same view while the size stays, and thresholds a batch written there frame by frame in place', () => {
    const image = new PaddedBinaryImage();
    const [width, height] = [37, 11];
    const memory = image.mapMemory(width, height, 2);
    expect(image.mapMemory(width, height, 2)).toBe(memory);
    const maps = [mapOf(width * height, 1, threshold), mapOf(width * height, 2, threshold)];
    memory.set(maps[0]);
    memory.set(maps[1], width * height);
    for (const [i, map] of maps.entries()) {
      const slice = memory.subarray(i * width * height, (i + 1) * width * height);
      expect(image.threshold(slice, width, height, threshold)).toBe(slice);
      expect(pixelsOf(image)).toEqual(expected(map, width, height, threshold));
    }
    expect(memory.subarray(width * height)).toEqual(maps[1]);
  });

  it('copies a map left in its memory for another size before laying the image out again, and returns the copy', () => {
    const image = new PaddedBinaryImage();
    const memory = image.mapMemory(8, 4, 1);
    const map = mapOf(16, 3, threshold);
    memory.set(map);
    // Read as 4x4: the image grows past where the map was.
    const read = image.threshold(memory.subarray(0, 16), 4, 4, threshold);
    expect(read).not.toBe(memory);
    expect(read).toEqual(map);
    expect(pixelsOf(image)).toEqual(expected(map, 4, 4, threshold));
  });

  it('makes room for a larger batch, and thresholds its last frame in place', () => {
    const image = new PaddedBinaryImage();
    image.mapMemory(640, 480, 1);
    const four = image.mapMemory(640, 480, 4);
    expect(four.length).toBe(640 * 480 * 4);
    const last = mapOf(640 * 480, 4, threshold);
    four.set(last, 3 * 640 * 480);
    const slice = four.subarray(3 * 640 * 480);
    expect(image.threshold(slice, 640, 480, threshold)).toBe(slice);
    expect(pixelsOf(image)).toEqual(expected(last, 640, 480, threshold));
  });
});
