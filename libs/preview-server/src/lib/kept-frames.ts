import { rgbFrame, type RgbFrame } from '@iev/frame-annotation';
import { PixelFormat, type Frame } from '@iev/frame-protocol';
import { callOnce } from '@iev/service-runtime';

/** Free buffers kept per size: a few frames' worth, beyond which a returned buffer is left to the GC. */
const FREE_PER_SIZE = 4;

/**
 * Pixel buffers for kept frames, reused: a preview copying 640×480 frames 5 times a second would otherwise hand V8
 * 4.6 MB/s of external memory, which it answers with a full GC every ~5 s (19-70 ms each).
 */
export class PixelBufferPool {
  private readonly free = new Map<number, Uint8Array[]>();

  /** A buffer of `bytes`, from the free ones if one is there (its old pixels still in it). */
  take(bytes: number): Uint8Array {
    return this.free.get(bytes)?.pop() ?? new Uint8Array(bytes);
  }

  /** Back to the pool: nothing may read or write it after this. */
  give(buffer: Uint8Array): void {
    let free = this.free.get(buffer.length);
    if (!free) this.free.set(buffer.length, (free = []));
    if (free.length < FREE_PER_SIZE) free.push(buffer);
  }
}

/**
 * A frame kept by the preview, as packed RGB in a pooled buffer. Its pixels go back to the pool once it is dropped
 * and nobody holds it: whoever reads them after the call that handed it out (an encoding) holds it meanwhile.
 */
export class KeptFrame {
  private holds = 0;
  private dropped = false;

  private constructor(
    readonly sequence: number,
    readonly captureTimeMs: number,
    readonly image: RgbFrame,
    private readonly pool: PixelBufferPool,
  ) {}

  /** A copy of the received frame (whose buffer goes back to the transport); BGR24 or RGB24, else it throws. */
  static copy(frame: Frame, pool: PixelBufferPool): KeptFrame {
    const { pixels, width, height, stride, pixelFormat, sourceId, sequence, captureTimeMs } = frame;
    if (pixelFormat !== PixelFormat.BGR24 && pixelFormat !== PixelFormat.RGB24) {
      throw new Error(`${sourceId}: frame not shown: only BGR24 and RGB24 frames are supported (pixelFormat ${pixelFormat})`);
    }
    const data = pool.take(width * 3 * height);
    const image: RgbFrame = rgbFrame({ data: pixels, width, height, stride }, data, pixelFormat === PixelFormat.RGB24);
    return new KeptFrame(sequence, captureTimeMs, image, pool);
  }

  /** Keeps the pixels from being reused until the returned function is called. */
  hold(): () => void {
    this.holds++;
    return callOnce(() => {
      this.holds--;
      this.recycleIfFree();
    });
  }

  /** No longer kept: its pixels go back to the pool as soon as nobody holds them. */
  drop(): void {
    this.dropped = true;
    this.recycleIfFree();
  }

  private recycleIfFree(): void {
    if (this.dropped && this.holds === 0) this.pool.give(this.image.data);
  }
}
