import type { ImageView } from '../types';
import { resizeBilinearU8 } from './resize-bilinear';

/** An image from per-channel rows (B, G, R), with `padding` junk bytes after each row. */
function imageFromChannels(channels: number[][][], padding = 0): ImageView {
  const height = channels[0].length;
  const width = channels[0][0].length;
  const stride = width * 3 + padding;
  const data = new Uint8Array(stride * height).fill(0xee);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[y * stride + x * 3 + c] = channels[c][y][x];
    }
  }
  return { data, width, height, stride };
}

function channelRows(image: ImageView, c: number): number[][] {
  return Array.from({ length: image.height }, (_, y) => Array.from({ length: image.width }, (_, x) => image.data[y * image.stride + x * 3 + c]));
}

// Expected values are worked out by hand with OpenCV's fixed-point arithmetic (and agree with
// cv2.resize of OpenCV 4.6): weights are 11-bit, a horizontal pass gives h = (p0*a0 + p1*a1) >> 4,
// the vertical pass ((b0*h0) >> 16) + ((b1*h1) >> 16) + 2 >> 2.
describe('resizeBilinearU8 (cv2.resize INTER_LINEAR)', () => {
  it('upscales 2x2 -> 4x4, including OpenCV rounding at the top and bottom borders', () => {
    const image = imageFromChannels([
      [[0, 2], [100, 200]],
      [[10, 20], [30, 40]],
      [[255, 0], [0, 255]],
    ]);
    const resized = resizeBilinearU8(image, 4, 4);
    expect(resized).toMatchObject({ width: 4, height: 4, stride: 12 });
    // Columns blend source columns with weights (1, 0), (3/4, 1/4), (1/4, 3/4), (0, 1); rows the same,
    // except that the outer rows keep their weights on the clamped row and floor each part: at
    // (x=1, y=0), h = 2*512 >> 4 = 64 and (512*64 >> 16) + (1536*64 >> 16) = 0 + 1 -> 0, where the
    // clamped pixel (2048*64 >> 16 = 2 -> 1) would give 1.
    expect(channelRows(resized, 0)).toEqual([
      [0, 0, 1, 2],
      [25, 32, 45, 52],
      [75, 94, 132, 151],
      [100, 125, 175, 200],
    ]);
    expect(channelRows(resized, 1)).toEqual([
      [10, 12, 17, 20],
      [15, 17, 22, 25],
      [25, 27, 32, 35],
      [30, 32, 37, 40],
    ]);
    expect(channelRows(resized, 2)).toEqual([
      [255, 191, 64, 0],
      [191, 159, 96, 64],
      [64, 96, 159, 191],
      [0, 64, 191, 255],
    ]);
  });

  it('upscales 3x1 -> 5x1 with weights rounded from float coordinates', () => {
    // Source x = 0.4 and 1.6 give weights (1229, 819) and (819, 1229): 100*819 >> 4 = 5118 -> 40.
    const image = imageFromChannels([[[0, 100, 200]], [[50, 150, 250]], [[255, 0, 255]]]);
    const resized = resizeBilinearU8(image, 5, 1);
    expect(channelRows(resized, 0)).toEqual([[0, 40, 100, 160, 200]]);
    expect(channelRows(resized, 1)).toEqual([[50, 90, 150, 210, 250]]);
    expect(channelRows(resized, 2)).toEqual([[255, 153, 0, 153, 255]]);
  });

  it('downscales 6x1 -> 4x1 and halves 4x4 -> 2x2 as a rounded 2x2 mean', () => {
    const row = imageFromChannels([[[10, 40, 70, 100, 130, 160]], [[20, 50, 80, 110, 140, 170]], [[30, 60, 90, 120, 150, 181]]]);
    const narrowed = resizeBilinearU8(row, 4, 1);
    expect(channelRows(narrowed, 0)).toEqual([[18, 63, 108, 153]]);
    expect(channelRows(narrowed, 2)).toEqual([[38, 83, 128, 173]]);

    const square = imageFromChannels([0, 1, 2].map((c) => [0, 1, 2, 3].map((y) => [0, 1, 2, 3].map((x) => 5 * (12 * y + 3 * x + c)))));
    const halved = resizeBilinearU8(square, 2, 2);
    // (0 + 15 + 60 + 75 + 2) >> 2 = 38
    expect(channelRows(halved, 0)).toEqual([[38, 68], [158, 188]]);
    expect(channelRows(halved, 1)).toEqual([[43, 73], [163, 193]]);
  });

  it('copies an image resized to its own size, ignoring row padding', () => {
    const channels = [0, 1, 2].map((c) => [0, 1, 2].map((y) => [0, 1, 2, 3].map((x) => (37 * (y * 4 + x) + 101 * c) % 256)));
    const resized = resizeBilinearU8(imageFromChannels(channels, 5), 4, 3);
    expect([0, 1, 2].map((c) => channelRows(resized, c))).toEqual(channels);
  });

  it('writes into a given buffer', () => {
    const dst = new Uint8Array(5 * 3);
    const resized = resizeBilinearU8(imageFromChannels([[[0, 100, 200]], [[0, 0, 0]], [[0, 0, 0]]]), 5, 1, dst);
    expect(resized.data).toBe(dst);
    expect(channelRows(resized, 0)).toEqual([[0, 40, 100, 160, 200]]);
  });

  it('rejects a too small buffer, a bad size and truncated data', () => {
    const image = imageFromChannels([[[1, 2]], [[3, 4]], [[5, 6]]]);
    expect(() => resizeBilinearU8(image, 4, 4, new Uint8Array(47))).toThrow(/47 bytes/);
    expect(() => resizeBilinearU8(image, 0, 4)).toThrow(RangeError);
    expect(() => resizeBilinearU8({ ...image, data: image.data.subarray(0, 5) }, 4, 4)).toThrow(/5 bytes/);
  });
});
