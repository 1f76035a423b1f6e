import { FrameRing } from './frame-ring';

describe('FrameRing', () => {
  it('hands out its buffers in turn and reuses them: no allocation once every slot exists', () => {
    const ring = new FrameRing(16, () => false, 3);
    const first = [ring.acquire(), ring.acquire(), ring.acquire()];
    const second = [ring.acquire(), ring.acquire(), ring.acquire()];

    expect(new Set(first.map((buffer) => buffer.buffer)).size).toBe(3);
    expect(second).toEqual(first);
    second.forEach((buffer, i) => expect(buffer).toBe(first[i]));
    expect(first.every((buffer) => buffer.length === 16)).toBe(true);
  });

  it('skips a buffer that is still held downstream', () => {
    const held = new Set<ArrayBufferLike>();
    const ring = new FrameRing(16, (buffer) => held.has(buffer), 3);
    const [a, b, c] = [ring.acquire(), ring.acquire(), ring.acquire()];
    held.add(a.buffer);

    expect(ring.acquire()).toBe(b);
    expect(ring.acquire()).toBe(c);
    expect(ring.replaced).toBe(0);
  });

  it('replaces a buffer when every one is held, leaving the old one to its holders', () => {
    const held = new Set<ArrayBufferLike>();
    const ring = new FrameRing(16, (buffer) => held.has(buffer), 2);
    const owned = [ring.acquire(), ring.acquire()];
    for (const buffer of owned) held.add(buffer.buffer);

    const fresh = ring.acquire();
    expect(owned).not.toContain(fresh);
    expect(ring.replaced).toBe(1);
  });

  it('refuses fewer than two slots', () => {
    expect(() => new FrameRing(16, () => false, 1)).toThrow(RangeError);
  });
});
