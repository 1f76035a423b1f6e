import { freeNow } from './free-now';

describe('freeNow', () => {
  it('empties a view that is the whole of its ArrayBuffer, once', () => {
    const output = new Float32Array(480 * 640).fill(0.5);

    expect(freeNow(output)).toBe(true);
    expect(output.length).toBe(0);
    expect(output.buffer.byteLength).toBe(0);
    expect(freeNow(output)).toBe(false);
  });

  it('leaves alone a view that shares its memory', () => {
    const pooled = Buffer.from('a small buffer from Node.js pool');
    const whole = new Uint8Array(64);
    const view = whole.subarray(8, 16);
    const shared = new Uint8Array(new SharedArrayBuffer(16));

    expect([pooled, view, shared].map(freeNow)).toEqual([false, false, false]);
    expect(pooled.toString()).toBe('a small buffer from Node.js pool');
    expect(whole.length).toBe(64);
    expect(shared.length).toBe(16);
  });

  it('leaves memory to the GC where ArrayBuffers cannot be detached (Node.js 20), rather than throwing', () => {
    const transfer = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
    delete (ArrayBuffer.prototype as { transfer?: unknown }).transfer;
    try {
      jest.isolateModules(() => {
        const { freeNow: freeWithoutTransfer } = jest.requireActual<typeof import('./free-now')>('./free-now');
        const part = new Uint8Array(64).fill(7);

        expect(freeWithoutTransfer(part)).toBe(false);
        expect(part.length).toBe(64);
      });
    } finally {
      if (transfer) Object.defineProperty(ArrayBuffer.prototype, 'transfer', transfer);
    }
  });
});
