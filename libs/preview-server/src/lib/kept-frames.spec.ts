import { ColorMatrix, PixelBufferPool, PixelFormat, type Frame } from '@iev/frame-protocol';
import { KeptFrame } from './kept-frames';

const frame = (sequence: number, pixelFormat = PixelFormat.BGR24): Frame => ({
  sourceId: 'cam',
  sequence,
  captureTimeMs: 1000 + sequence,
  width: 2,
  height: 2,
  stride: 8, // two bytes of padding a row
  pixelFormat,
  pixels: Uint8Array.from({ length: 16 }, (_, i) => sequence * 16 + i),
});

describe('KeptFrame', () => {
  it('copies a BGR24 frame as packed RGB, and an RGB24 one as it is', () => {
    const pool = new PixelBufferPool();
    expect([...KeptFrame.copy(frame(0), pool).image.data]).toEqual([2, 1, 0, 5, 4, 3, 10, 9, 8, 13, 12, 11]);
    expect([...KeptFrame.copy(frame(0, PixelFormat.RGB24), pool).image.data]).toEqual([0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
    expect(() => KeptFrame.copy({ ...frame(0, PixelFormat.GRAY8) }, pool)).toThrow('cam: frame not shown: only BGR24, RGB24 and I420 frames are supported (pixelFormat 3)');
  });

  it('converts an I420 frame to packed RGB: grey where chroma is neutral, red where V is high', () => {
    // 2x2 pixels, one U and one V: Y 16 (black), 235 (white), 126 twice; then U 128 and V 128, or V 240.
    const i420 = (v: number): Frame => ({ ...frame(5, PixelFormat.I420), stride: 2, pixels: Uint8Array.from([16, 235, 126, 126, 128, v]) });

    const grey = KeptFrame.copy(i420(128), new PixelBufferPool()).image;
    expect(grey).toMatchObject({ width: 2, height: 2, stride: 6, channelOrder: 'rgb' });
    expect([...grey.data]).toEqual([0, 0, 0, 255, 255, 255, 128, 128, 128, 128, 128, 128]);
    // BT.601: red 1.164 * 110 + 1.596 * 112 (saturated), green 1.164 * 110 - 0.813 * 112, blue 1.164 * 110.
    expect([...KeptFrame.copy(i420(240), new PixelBufferPool()).image.data.subarray(6, 9)]).toEqual([255, 37, 128]);
    // The header's BT.709 (an HD camera): green 1.164 * 110 - 0.533 * 112.
    expect([...KeptFrame.copy({ ...i420(240), colorMatrix: ColorMatrix.BT709 }, new PixelBufferPool()).image.data.subarray(6, 9)]).toEqual([255, 68, 128]);
    // Full range (a camera's H.264 that says so): Y is the grey level itself.
    expect([...KeptFrame.copy({ ...i420(128), fullRange: true }, new PixelBufferPool()).image.data]).toEqual([16, 16, 16, 235, 235, 235, 126, 126, 126, 126, 126, 126]);
  });

  it("reuses a dropped frame's buffer for a later frame, never one that is still held", () => {
    const pool = new PixelBufferPool();
    const first = KeptFrame.copy(frame(1), pool);
    const release = first.hold();
    first.drop();
    const second = KeptFrame.copy(frame(2), pool);
    expect(second.image.data.buffer).not.toBe(first.image.data.buffer);
    expect(first.image.data[0]).toBe(16 + 2); // still frame 1's pixels while held
    release();
    release(); // a second call changes nothing
    const third = KeptFrame.copy(frame(3), pool);
    expect(third.image.data.buffer).toBe(first.image.data.buffer);
    expect(third.image.data[0]).toBe(48 + 2);
    expect(KeptFrame.copy(frame(4), pool).image.data.buffer).not.toBe(third.image.data.buffer);
  });

  it('takes no buffer of another size', () => {
    const pool = new PixelBufferPool();
    KeptFrame.copy(frame(1), pool).drop();
    const wider = KeptFrame.copy({ ...frame(2), width: 3, stride: 9, pixels: new Uint8Array(18) }, pool);
    expect(wider.image.data.length).toBe(18);
  });
});
