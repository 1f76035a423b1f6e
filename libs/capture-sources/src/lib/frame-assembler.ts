/**
 * Cuts a byte stream of fixed-size raw frames (ffmpeg's stdout) into one Buffer per frame.
 *
 * Each byte is copied at most once: a frame that lies whole inside a chunk is a view of that chunk (no copy;
 * it keeps the chunk alive while held), and only a frame split across chunks is copied into a buffer of its own,
 * which `allocate` provides (a FrameRing's next free buffer, or a new one).
 */
export class FrameAssembler {
  private partialFrame: Buffer | undefined;
  private partialBytes = 0;

  constructor(
    readonly frameSize: number,
    private readonly allocate: () => Buffer = () => Buffer.allocUnsafe(frameSize),
  ) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) {
      throw new RangeError(`frame size must be a positive integer, got ${frameSize}`);
    }
  }

  /** Bytes of an unfinished frame held back, waiting for the next chunk. */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  /** Takes the next chunk of the stream and returns the frames it completes, in order. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let offset = 0;

    if (this.partialFrame) {
      const wanted = this.frameSize - this.partialBytes;
      offset = chunk.copy(this.partialFrame, this.partialBytes, 0, Math.min(wanted, chunk.length));
      this.partialBytes += offset;
      if (this.partialBytes < this.frameSize) return frames;
      frames.push(this.partialFrame);
      this.partialFrame = undefined;
      this.partialBytes = 0;
    }

    while (chunk.length - offset >= this.frameSize) {
      frames.push(chunk.subarray(offset, offset + this.frameSize));
      offset += this.frameSize;
    }

    if (offset < chunk.length) {
      // Every byte is overwritten before the frame is handed out, so uninitialised memory is fine.
      this.partialFrame = this.allocate();
      this.partialBytes = chunk.copy(this.partialFrame, 0, offset);
    }
    return frames;
  }
}
