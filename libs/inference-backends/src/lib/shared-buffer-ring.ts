/** A buffer lent out by a SharedBufferRing; `fresh` when the other thread has not seen this slot's buffer yet. */
export interface LentBuffer {
  slot: string;
  buffer: SharedArrayBuffer;
  fresh: boolean;
}

/**
 * A few SharedArrayBuffers lent out in turn, so tensors cross to a worker thread and back as a slot name instead
 * of memory allocated (or transferred, which counts as allocated) per frame, which drove the main thread's garbage
 * collection. A buffer lent out is never lent again until released; a slot's buffer is replaced only when it is
 * free and too small. With every slot lent, acquire() gives none and the caller does without.
 */
export class SharedBufferRing {
  private readonly buffers: SharedArrayBuffer[] = [];
  private readonly lent = new Set<number>();
  /** Slots whose current buffer the other thread has been sent. */
  private readonly sent = new Set<number>();

  constructor(
    private readonly name: string,
    private readonly slots: number,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`${name} ring needs at least one slot, got ${slots}`);
  }

  /** Buffers lent and not yet released. */
  get inUse(): number {
    return this.lent.size;
  }

  acquire(bytes: number): LentBuffer | undefined {
    let tooSmall = -1;
    for (let slot = 0; slot < this.buffers.length; slot++) {
      if (this.lent.has(slot)) continue;
      if (this.buffers[slot].byteLength >= bytes) return this.lend(slot);
      tooSmall = slot;
    }
    const slot = tooSmall >= 0 ? tooSmall : this.buffers.length;
    if (slot >= this.slots) return undefined;
    this.buffers[slot] = new SharedArrayBuffer(bytes);
    this.sent.delete(slot);
    return this.lend(slot);
  }

  /** Takes back a buffer this ring lent; false for any other buffer (or one already released). */
  release(buffer: ArrayBufferLike): boolean {
    const slot = this.buffers.indexOf(buffer as SharedArrayBuffer);
    return slot >= 0 && this.lent.delete(slot);
  }

  /** The other thread is a new one (a worker started again): each buffer is fresh again when next lent. */
  forgetSent(): void {
    this.sent.clear();
  }

  private lend(slot: number): LentBuffer {
    this.lent.add(slot);
    const fresh = !this.sent.has(slot);
    this.sent.add(slot);
    return { slot: `${this.name}${slot}`, buffer: this.buffers[slot], fresh };
  }
}
