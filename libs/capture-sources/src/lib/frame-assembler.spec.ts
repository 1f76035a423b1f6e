import { FrameAssembler } from './frame-assembler';

describe('FrameAssembler', () => {
  it('hands out each frame once its last byte is filled in, in a buffer from allocate', () => {
    const buffers = [Buffer.alloc(10), Buffer.alloc(10)];
    const assembler = new FrameAssembler(10, () => buffers.shift() ?? Buffer.alloc(10));

    const head = assembler.space();
    expect(head.length).toBe(10);
    head.write('abcd');
    expect(assembler.filled(4)).toBeUndefined();
    expect(assembler.pendingBytes).toBe(4);
    const tail = assembler.space();
    expect(tail.length).toBe(6);
    tail.write('efghij');
    const frame = assembler.filled(6);

    expect(frame?.toString()).toBe('abcdefghij');
    expect(assembler.pendingBytes).toBe(0);
    expect(assembler.space().length).toBe(10);
    expect(buffers).toHaveLength(0);
  });

  it('refuses more bytes than the space it gave', () => {
    const assembler = new FrameAssembler(4);
    expect(() => assembler.filled(1)).toThrow(RangeError);
    assembler.space();
    expect(() => assembler.filled(5)).toThrow(RangeError);
  });

  it('refuses a frame size that is not a positive integer', () => {
    expect(() => new FrameAssembler(0)).toThrow(RangeError);
    expect(() => new FrameAssembler(2.5)).toThrow(RangeError);
  });
});
