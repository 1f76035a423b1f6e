import { randomUUID } from 'node:crypto';
import { Pull, Push } from 'zeromq';
import { releaseReceived } from './received-part';

describe('releaseReceived', () => {
  it('empties a large part received over a real socket, so its message is freed now', async () => {
    const endpoint = `inproc://release-${randomUUID()}`;
    const push = new Push();
    const pull = new Pull();
    await push.bind(endpoint);
    pull.connect(endpoint);
    try {
      await push.send([Buffer.from('header'), Buffer.alloc(640 * 480 * 3, 7)]);
      const [header, pixels] = await pull.receive();

      expect(pixels[1000]).toBe(7);
      expect(releaseReceived(pixels)).toBe(true);
      expect(pixels.length).toBe(0);
      expect(releaseReceived(pixels)).toBe(false);
      expect(header.toString()).toBe('header');
    } finally {
      push.close();
      pull.close();
    }
  });

  it('leaves alone a Buffer that shares its memory', () => {
    const pooled = Buffer.from('a small buffer from Node.js pool');
    const whole = new Uint8Array(64);
    const view = whole.subarray(8, 16);
    const shared = new Uint8Array(new SharedArrayBuffer(16));

    expect([pooled, view, shared].map(releaseReceived)).toEqual([false, false, false]);
    expect(pooled.toString()).toBe('a small buffer from Node.js pool');
    expect(whole.length).toBe(64);
    expect(shared.length).toBe(16);
  });

  it('leaves a part to the GC where ArrayBuffers cannot be detached (Node.js 20), rather than throwing', () => {
    const transfer = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
    delete (ArrayBuffer.prototype as { transfer?: unknown }).transfer;
    try {
      jest.isolateModules(() => {
        const { releaseReceived: releaseWithoutTransfer } = jest.requireActual<typeof import('./received-part')>('./received-part');
        const part = new Uint8Array(64).fill(7);

        expect(releaseWithoutTransfer(part)).toBe(false);
        expect(part.length).toBe(64);
      });
    } finally {
      if (transfer) Object.defineProperty(ArrayBuffer.prototype, 'transfer', transfer);
    }
  });
});
