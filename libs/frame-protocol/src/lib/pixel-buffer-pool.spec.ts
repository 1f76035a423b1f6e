import { PixelBufferPool } from './pixel-buffer-pool';

describe('PixelBufferPool', () => {
  it('hands a returned buffer out again for the same size only, and keeps no more free ones than it is told', () => {
    const pool = new PixelBufferPool(1);
    const [first, second] = [pool.take(12), pool.take(12)];
    pool.give(first);
    pool.give(second); // beyond the one kept: left to the GC

    expect(pool.take(8)).not.toBe(first);
    expect(pool.take(12)).toBe(first);
    expect(pool.take(12)).not.toBe(second);
  });

  it("lets a size's free buffers go once no buffer of it has been taken for a while (a camera removed or resized), and keeps a size in use", () => {
    let nowMs = 0;
    const pool = new PixelBufferPool(1, { idleMs: 60_000, now: () => nowMs });
    const gone = pool.take(12);
    const inUse = pool.take(8);
    pool.give(gone);
    pool.give(inUse);
    for (; nowMs <= 90_000; nowMs += 30_000) pool.give(pool.take(8));

    expect(pool.take(8)).toBe(inUse);
    expect(pool.take(12)).not.toBe(gone);
  });
});
