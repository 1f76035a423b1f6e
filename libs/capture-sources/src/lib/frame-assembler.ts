/**
 * Cuts a byte stream of fixed-size raw frames into one buffer per frame, each from `allocate` (a FrameRing's next
 * free buffer, or a new one): the stream is read (or copied) into `space()`, and `filled` hands out each frame
 * as its last byte arrives.
 */
export class FrameAssembler {
  private frame: Buffer | undefined;
  private filledBytes = 0;

  constructor(
    readonly frameSize: number,
    private readonly allocate: () => Buffer = () => Buffer.allocUnsafe(frameSize),
  ) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) {
      throw new RangeError(`frame size must be a positive integer, got ${frameSize}`);
    }
  }

  /** Bytes of an unfinished frame held back, waiting for the rest. */
  get pendingBytes(): number {
    return this.filledBytes;
  }

  /** The unfilled rest of the frame being cut (a new one taken from `allocate` when none is). */
  space(): Buffer {
    // Every byte is overwritten before the frame is handed out, so uninitialised memory is fine.
    this.frame ??= this.allocate();
    return this.frame.subarray(this.filledBytes);
  }

  /** Tells that `bytes` more of `space()` were filled; returns the frame when that completed it. */
  filled(bytes: number): Buffer | undefined {
    if (!this.frame || bytes < 0 || this.filledBytes + bytes > this.frameSize) throw new RangeError(`filled ${bytes} bytes beyond the space given`);
    this.filledBytes += bytes;
    if (this.filledBytes < this.frameSize) return undefined;
    const frame = this.frame;
    this.frame = undefined;
    this.filledBytes = 0;
    return frame;
  }
}
