/** Says whether memory handed out earlier may still be read downstream (e.g. ClientZmqOnDemand.holds). */
export type BufferHeld = (buffer: ArrayBufferLike) => boolean;

/** More than the frames a source holds itself at once: one being cut, the ready ones, one being handed on. */
const DEFAULT_SLOTS = 8;

/**
 * Frame-sized buffers used in turn, so a decoder's frames need no new allocation each (at 640x480, 27 MB/s of
 * garbage otherwise). A buffer comes round again only after all the others, and is skipped while `held` says it is
 * still in use (its frame not yet taken, or being read downstream); when every one is held (a consumer stopped in
 * the middle of a transfer), a fresh buffer takes that place and the old one is left to its holders.
 */
export class FrameRing {
  private readonly slots: Buffer[] = [];
  private next = 0;
  /** Buffers replaced because every one was still held. */
  replaced = 0;

  constructor(
    readonly frameBytes: number,
    private readonly held: BufferHeld,
    private readonly size = DEFAULT_SLOTS,
  ) {
    if (!Number.isSafeInteger(size) || size < 2) throw new RangeError(`a frame ring needs at least 2 slots, got ${size}`);
  }

  acquire(): Buffer {
    for (let tried = 0; tried < this.size; tried++) {
      const index = this.advance();
      const slot = this.slots[index];
      if (!slot) return (this.slots[index] = Buffer.allocUnsafeSlow(this.frameBytes));
      if (!this.held(slot.buffer)) return slot;
    }
    this.replaced++;
    return (this.slots[this.advance()] = Buffer.allocUnsafeSlow(this.frameBytes));
  }

  private advance(): number {
    const index = this.next;
    this.next = (index + 1) % this.size;
    return index;
  }
}
