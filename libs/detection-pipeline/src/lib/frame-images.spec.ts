import { ColorMatrix, PixelFormat, type Frame } from '@iev/frame-protocol';
import { I420Converter } from '@iev/text-detection';
import { FrameImages } from './frame-images';

const frame = (pixelFormat: PixelFormat, pixels: Uint8Array, width = 4, height = 2, stride = width): Frame => ({ sourceId: 'cam', sequence: 1, captureTimeMs: 0, width, height, stride, pixelFormat, pixels });

describe('FrameImages', () => {
  it("hands out a BGR24 frame's own pixels, which stay the transport's to take back", () => {
    const images = new FrameImages();
    const pixels = new Uint8Array(4 * 3 * 2 + 2);
    const image = images.imageOf(frame(PixelFormat.BGR24, pixels, 4, 2, 13));

    expect(image).toEqual({ data: pixels, width: 4, height: 2, stride: 13 });
    expect(images.release(image)).toBe(false);
  });

  it('converts an I420 frame to packed BGR, and reuses the buffer of a released image for the next frame', () => {
    const images = new FrameImages();
    const i420 = Uint8Array.from([16, 60, 120, 235, 80, 100, 140, 200, 90, 160, 240, 30]);
    const expected = new I420Converter().toBgr({ data: i420, width: 4, height: 2, stride: 4 }).data;

    const first = images.imageOf(frame(PixelFormat.I420, i420));
    expect(first).toMatchObject({ width: 4, height: 2, stride: 12 });
    expect([...first.data]).toEqual([...expected]);
    const held = images.imageOf(frame(PixelFormat.I420, i420));
    expect(held.data).not.toBe(first.data);

    expect(images.release(first)).toBe(true);
    expect(images.release(first)).toBe(false); // released once only
    expect(images.imageOf(frame(PixelFormat.I420, i420)).data).toBe(first.data);
  });

  it.each([
    ["an HD camera's BT.709", { colorMatrix: ColorMatrix.BT709 }],
    ['full range', { fullRange: true }],
  ])('converts an I420 frame with the colours its header says: %s', (_, colour) => {
    const i420 = Uint8Array.from([16, 60, 120, 235, 80, 100, 140, 200, 90, 160, 240, 30]);
    const converter = new I420Converter();
    const asSaid = converter.toBgr({ data: i420, width: 4, height: 2, stride: 4, ...colour }).data;
    const bt601Limited = converter.toBgr({ data: i420, width: 4, height: 2, stride: 4 }).data;

    const image = new FrameImages().imageOf({ ...frame(PixelFormat.I420, i420), ...colour });

    expect([...image.data]).toEqual([...asSaid]);
    expect([...image.data]).not.toEqual([...bt601Limited]);
  });

  it('reads BGR24 and I420 only', () => {
    expect([PixelFormat.BGR24, PixelFormat.RGB24, PixelFormat.GRAY8, PixelFormat.I420].map(FrameImages.reads)).toEqual([true, false, false, true]);
    expect(() => new FrameImages().imageOf(frame(PixelFormat.GRAY8, new Uint8Array(8)))).toThrow('the detector reads BGR24 and I420 frames, not pixel format 3');
  });
});
