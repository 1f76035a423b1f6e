/**
 * Pixel buffers reused by size, for frames copied or converted once received: a process taking 640×480 frames
 * would otherwise hand V8 0.9 MB of new external memory a frame, which it answers with full GCs (the preview at 5 fps:
 * one every ~5 s, 19-70 ms each), and these VMs with ~11 µs of page faults per 4 KiB page first touched.
 */
export class PixelBufferPool {
  private readonly free = new Map<number, Uint8Array[]>();

  /** `freePerSize`: free buffers kept per size, beyond which a returned buffer is left to the GC. */
  constructor(private readonly freePerSize = 4) {}

  /** A buffer of `bytes`, from the free ones if one is there (its old pixels still in it). */
  take(bytes: number): Uint8Array {
    return this.free.get(bytes)?.pop() ?? new Uint8Array(bytes);
  }

  /** Back to the pool: nothing may read or write it after this. */
  give(buffer: Uint8Array): void {
    let free = this.free.get(buffer.length);
    if (!free) this.free.set(buffer.length, (free = []));
    if (free.length < this.freePerSize) free.push(buffer);
  }
}
