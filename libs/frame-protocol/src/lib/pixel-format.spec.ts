import { i420Planes, minStride, pixelByteLength } from './pixel-format';
import { PixelFormat } from './types';

describe('pixel layouts', () => {
  it('packs BGR24 and GRAY8 rows at their stride', () => {
    expect(minStride(PixelFormat.BGR24, 640)).toBe(1920);
    expect(pixelByteLength({ pixelFormat: PixelFormat.BGR24, stride: 1924, height: 480 })).toBe(1924 * 480);
    expect(pixelByteLength({ pixelFormat: PixelFormat.GRAY8, stride: 641, height: 3 })).toBe(641 * 3);
  });

  it('takes half the bytes of BGR24 for I420, a quarter-size U and V plane after the Y rows', () => {
    expect(minStride(PixelFormat.I420, 640)).toBe(640);
    expect(pixelByteLength({ pixelFormat: PixelFormat.I420, stride: 640, height: 480 })).toBe((640 * 480 * 3) / 2);
    expect(i420Planes({ stride: 640, height: 480 })).toEqual({ chromaStride: 320, chromaHeight: 240, uOffset: 307_200, vOffset: 384_000, byteLength: 460_800 });
  });

  it('rounds I420 chroma up on odd sides, as decoders write it', () => {
    // ffmpeg's yuv420p for 5x3: 15 bytes of Y, then 3x2 of U and of V.
    expect(i420Planes({ stride: 5, height: 3 })).toEqual({ chromaStride: 3, chromaHeight: 2, uOffset: 15, vOffset: 21, byteLength: 27 });
    expect(pixelByteLength({ pixelFormat: PixelFormat.I420, stride: 5, height: 3 })).toBe(27);
  });

  it('names an unknown format', () => {
    expect(() => minStride(9 as PixelFormat, 4)).toThrow('pixelFormat is not a known pixel format: 9');
  });
});
