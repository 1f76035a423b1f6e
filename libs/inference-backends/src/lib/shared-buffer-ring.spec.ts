import { SharedBufferRing, type LentBuffer } from './shared-buffer-ring';

/** acquire(), which must lend a buffer here. */
function lend(ring: SharedBufferRing, bytes: number): LentBuffer {
  const lent = ring.acquire(bytes);
  if (!lent) throw new Error(`nothing lent for ${bytes} bytes`);
  return lent;
}

describe('SharedBufferRing', () => {
  it('lends as many buffers as it has slots, then none until one comes back, and then that one again', () => {
    const ring = new SharedBufferRing('output', 3);
    const lent = [lend(ring, 64), lend(ring, 64), lend(ring, 64)];
    expect(new Set(lent.map(({ buffer }) => buffer)).size).toBe(3);
    expect(lent.map(({ slot }) => slot)).toEqual(['output0', 'output1', 'output2']);
    expect(ring.acquire(64)).toBeUndefined();
    expect(ring.release(lent[1].buffer)).toBe(true);
    expect(ring.acquire(32)).toEqual({ slot: 'output1', buffer: lent[1].buffer, fresh: false });
  });

  it('replaces a free buffer that is too small (a fresh one for the same slot), never one still lent', () => {
    const ring = new SharedBufferRing('input', 2);
    const small = lend(ring, 16);
    const large = lend(ring, 64);
    expect(large.slot).toBe('input1'); // slot 0 is lent, however small
    ring.release(small.buffer);
    const grown = lend(ring, 128);
    expect(grown).toMatchObject({ slot: 'input0', fresh: true });
    expect(grown.buffer.byteLength).toBe(128);
    expect(large.buffer.byteLength).toBe(64);
    expect(ring.inUse).toBe(2);
  });

  it('takes back only what it lent, once', () => {
    const ring = new SharedBufferRing('output', 2);
    const lent = lend(ring, 8);
    expect(ring.release(new SharedArrayBuffer(8))).toBe(false);
    expect(ring.release(new ArrayBuffer(8))).toBe(false);
    expect(ring.release(lent.buffer)).toBe(true);
    expect(ring.release(lent.buffer)).toBe(false);
    expect(ring.inUse).toBe(0);
  });

  it('never lends a buffer still in use, however acquire and release interleave', () => {
    const ring = new SharedBufferRing('output', 3);
    const held = new Set<SharedArrayBuffer>();
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 2000; step++) {
      if (held.size > 0 && random() < 0.45) {
        const buffer = [...held][Math.floor(random() * held.size)];
        held.delete(buffer);
        expect(ring.release(buffer)).toBe(true);
        continue;
      }
      const bytes = 4 * (1 + Math.floor(random() * 4));
      const lent = ring.acquire(bytes);
      if (held.size === 3) {
        expect(lent).toBeUndefined();
        continue;
      }
      if (!lent) throw new Error(`nothing lent with ${held.size} of 3 slots out`);
      expect(held.has(lent.buffer)).toBe(false);
      expect(lent.buffer.byteLength).toBeGreaterThanOrEqual(bytes);
      held.add(lent.buffer);
    }
    expect(ring.inUse).toBe(held.size);
  });

  it('sends each buffer once, and again after forgetSent() (a new worker)', () => {
    const ring = new SharedBufferRing('input', 1);
    const first = lend(ring, 8);
    ring.release(first.buffer);
    expect(first.fresh).toBe(true);
    const second = lend(ring, 8);
    ring.release(second.buffer);
    expect(second).toMatchObject({ buffer: first.buffer, fresh: false });
    ring.forgetSent();
    expect(lend(ring, 8)).toMatchObject({ buffer: first.buffer, fresh: true });
  });

  it('refuses a ring without slots', () => {
    expect(() => new SharedBufferRing('output', 0)).toThrow('output ring needs at least one slot, got 0');
  });
});
