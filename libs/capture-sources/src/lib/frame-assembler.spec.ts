import { FrameAssembler } from './frame-assembler';

/** A stream of frames whose every byte tells where it belongs: frame i is filled with the value i. */
function frameStream(frameSize: number, frameCount: number): Buffer {
  const stream = Buffer.alloc(frameSize * frameCount);
  for (let i = 0; i < frameCount; i++) stream.fill(i, i * frameSize, (i + 1) * frameSize);
  return stream;
}

function cut(stream: Buffer, chunkSizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const size of chunkSizes) {
    chunks.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

describe('FrameAssembler', () => {
  it('rebuilds every frame whatever the chunk boundaries', () => {
    const frameSize = 12;
    const stream = frameStream(frameSize, 6);
    const assembler = new FrameAssembler(frameSize);

    const frames = cut(stream, [5, 7, 30, 1, 11, 2, 16]).flatMap((chunk) => assembler.push(chunk));

    expect(frames.map((frame) => frame.length)).toEqual(Array(6).fill(frameSize));
    expect(Buffer.concat(frames).equals(stream)).toBe(true);
    expect(assembler.pendingBytes).toBe(0);
  });

  it('hands out frames that lie whole inside a chunk as views of it, without copying', () => {
    const chunk = frameStream(8, 3);
    const frames = new FrameAssembler(8).push(chunk);

    expect(frames).toHaveLength(3);
    for (const [i, frame] of frames.entries()) {
      expect(frame.buffer).toBe(chunk.buffer);
      expect(frame.byteOffset).toBe(chunk.byteOffset + i * 8);
    }
  });

  it('holds a split frame back until its last byte arrives', () => {
    const [head, tail] = cut(frameStream(10, 1), [4, 6]);
    const assembler = new FrameAssembler(10);

    expect(assembler.push(head)).toEqual([]);
    expect(assembler.pendingBytes).toBe(4);
    const [frame] = assembler.push(tail);
    expect(frame.equals(Buffer.alloc(10, 0))).toBe(true);
    expect(frame.buffer).not.toBe(tail.buffer);
  });

  it('refuses a frame size that is not a positive integer', () => {
    expect(() => new FrameAssembler(0)).toThrow(RangeError);
    expect(() => new FrameAssembler(2.5)).toThrow(RangeError);
  });
});
