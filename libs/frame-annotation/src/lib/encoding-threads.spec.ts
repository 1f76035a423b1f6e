import sharp from 'sharp';
import { limitEncodingThreads } from './encoding-threads';

describe('limitEncodingThreads', () => {
  const own = sharp.concurrency();
  afterEach(() => sharp.concurrency(own));

  it("caps libvips' threads at the cores the process may use, and at least one", () => {
    sharp.concurrency(4);
    expect(limitEncodingThreads(2)).toBe(2);
    expect(sharp.concurrency()).toBe(2);
    expect(limitEncodingThreads(0)).toBe(1);
    expect(sharp.concurrency()).toBe(1);
  });

  it("never raises sharp's own choice (1 on glibc without jemalloc)", () => {
    sharp.concurrency(1);
    expect(limitEncodingThreads(8)).toBe(1);
  });
});
