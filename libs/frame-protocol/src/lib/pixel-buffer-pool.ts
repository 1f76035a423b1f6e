/** PixelBufferPool's options beyond how many free buffers it keeps of a size. */
export interface PixelBufferPoolOptions {
  /** A size no buffer has been taken of for this long has its free buffers let go (60 s). */
  idleMs?: number;
  /** The clock idleMs is measured on (performance.now). */
  now?: () => number;
}

interface SizeBuffers {
  free: Uint8Array[];
  lastTakenMs: number;
}

/**
 * Pixel buffers reused by size, for frames copied or converted once received: a process taking 640×480 frames
 * would otherwise hand V8 0.9 MB of new external memory a frame, which it answers with full GCs (the preview at 5 fps:
 * one every ~5 s, 19-70 ms each), and these VMs with ~11 µs of page faults per 4 KiB page first touched.
 * A size no longer taken (its camera removed or resized) lets its free buffers go, or every frame size a camera
 * ever had would keep its buffers for the life of the process (8 of 6 MB for a 1080p camera removed).
 */
export class PixelBufferPool {
  private readonly sizes = new Map<number, SizeBuffers>();
  private readonly idleMs: number;
  private readonly now: () => number;

  /** `freePerSize`: free buffers kept per size, beyond which a returned buffer is left to the GC. */
  constructor(
    private readonly freePerSize = 4,
    { idleMs = 60_000, now = () => performance.now() }: PixelBufferPoolOptions = {},
  ) {
    this.idleMs = idleMs;
    this.now = now;
  }

  /** A buffer of `bytes`, from the free ones if one is there (its old pixels still in it). */
  take(bytes: number): Uint8Array {
    const nowMs = this.now();
    for (const [size, { lastTakenMs }] of this.sizes) if (nowMs - lastTakenMs > this.idleMs) this.sizes.delete(size);
    let buffers = this.sizes.get(bytes);
    if (!buffers) this.sizes.set(bytes, (buffers = { free: [], lastTakenMs: nowMs }));
    buffers.lastTakenMs = nowMs;
    return buffers.free.pop() ?? new Uint8Array(bytes);
  }

  /** Back to the pool: nothing may read or write it after this. */
  give(buffer: Uint8Array): void {
    // A size let go while this buffer was out: the GC's.
    const free = this.sizes.get(buffer.length)?.free;
    if (free && free.length < this.freePerSize) free.push(buffer);
  }
}
