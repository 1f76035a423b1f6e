import { isRgbFrame, rgbFrame, rgbPixels, type RgbFrame } from './rgb-frame';

/** A BGR frame of distinct bytes, its rows `padding` bytes longer than its pixels, starting `offset` bytes into its buffer. */
function bgrFrame(width: number, height: number, padding = 0, offset = 0) {
  const stride = width * 3 + padding;
  const data = new Uint8Array(offset + stride * height).subarray(offset);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) % 251;
  return { data, width, height, stride };
}

describe('rgbFrame', () => {
  it.each([
    ['packed rows', 8, 3, 0, 0],
    ['padded rows, from an odd place in its buffer', 5, 4, 7, 3],
    ['one pixel', 1, 1, 0, 1],
  ])('swaps blue and red of every pixel and packs the rows: %s', (_, width, height, padding, offset) => {
    const bgr = bgrFrame(width, height, padding, offset);
    const rgb = rgbFrame(bgr);
    expect(rgb).toMatchObject({ width, height, stride: width * 3, channelOrder: 'rgb' });
    expect(rgb.data.length).toBe(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const from = y * bgr.stride + x * 3;
        expect([...rgb.data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)]).toEqual([bgr.data[from + 2], bgr.data[from + 1], bgr.data[from]]);
      }
    }
  });

  it('leaves the frame it copies as it was', () => {
    const bgr = bgrFrame(6, 2);
    const before = bgr.data.slice();
    rgbFrame(bgr);
    expect(bgr.data).toEqual(before);
  });

  it('names what is wrong with a frame it cannot read', () => {
    expect(() => rgbFrame({ ...bgrFrame(4, 4), stride: 4 })).toThrow('image data (48 bytes, stride 4) is too short for a 4x4 BGR24 frame');
    expect(() => rgbFrame({ ...bgrFrame(4, 4), width: 2.5 })).toThrow('image width and height must be positive whole numbers (got 2.5x4)');
  });
});

describe('rgbPixels', () => {
  it("hands sharp a packed RgbFrame's own pixels, and converts a BGR frame", () => {
    const rgb = rgbFrame(bgrFrame(7, 3));
    expect(isRgbFrame(rgb)).toBe(true);
    expect(rgbPixels(rgb).buffer).toBe(rgb.data.buffer);
    expect(rgbPixels(bgrFrame(7, 3))).toEqual(Buffer.from(rgb.data));
  });

  it('packs an RgbFrame with padded rows without swapping its red and blue', () => {
    const padded: RgbFrame = { data: Uint8Array.of(10, 20, 30, 0), width: 1, height: 1, stride: 4, channelOrder: 'rgb' };
    expect([...rgbPixels(padded)]).toEqual([10, 20, 30]);
  });
});
