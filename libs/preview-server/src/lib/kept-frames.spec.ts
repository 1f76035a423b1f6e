import { PixelFormat, type Frame } from '@iev/frame-protocol';
import { KeptFrame, PixelBufferPool } from './kept-frames';

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
    expect(() => KeptFrame.copy({ ...frame(0, PixelFormat.GRAY8) }, pool)).toThrow('cam: frame not shown: only BGR24 and RGB24 frames are supported (pixelFormat 3)');
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
