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
});
