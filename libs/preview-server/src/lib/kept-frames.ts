import { rgbFrame, type RgbFrame } from '@iev/frame-annotation';
import { PixelFormat, type Frame, type PixelBufferPool } from '@iev/frame-protocol';
import { callOnce } from '@iev/service-runtime';
import { I420Converter } from '@iev/text-detection';

let converter: I420Converter | undefined;
/** Made for the first I420 frame: one per process, as frames are kept one at a time. */
const i420Converter = (): I420Converter => (converter ??= new I420Converter());

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

  /** A copy of the received frame (whose buffer goes back to the transport); BGR24, RGB24 or I420, else it throws. */
  static copy(frame: Frame, pool: PixelBufferPool): KeptFrame {
    const { pixels, width, height, stride, pixelFormat, colorMatrix, fullRange, sourceId, sequence, captureTimeMs } = frame;
    if (pixelFormat !== PixelFormat.BGR24 && pixelFormat !== PixelFormat.RGB24 && pixelFormat !== PixelFormat.I420) {
      throw new Error(`${sourceId}: frame not shown: only BGR24, RGB24 and I420 frames are supported (pixelFormat ${pixelFormat})`);
    }
    const data = pool.take(width * 3 * height);
    const image: RgbFrame =
      pixelFormat === PixelFormat.I420
        ? { ...i420Converter().toRgb({ data: pixels, width, height, stride, colorMatrix, fullRange }, data), channelOrder: 'rgb' }
        : rgbFrame({ data: pixels, width, height, stride }, data, pixelFormat === PixelFormat.RGB24);
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
