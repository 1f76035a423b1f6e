import { PixelBufferPool, PixelFormat, type Frame } from '@iev/frame-protocol';
import { I420Converter, type ImageView } from '@iev/text-detection';

/** Converted frames in flight at once: one waiting per source, one in each stream, one being read or published. */
const FREE_BUFFERS = 8;

/**
 * The BGR images the detector and the reader take, from frames as they arrive: a BGR24 frame's own pixels, an I420
 * frame's converted into a pooled buffer (0.34 ms at 640x480), so that its message can go back to the transport at
 * once. Half the bytes cross from capture that way. Every image handed out goes back through release().
 */
export class FrameImages {
  private readonly converter = new I420Converter();
  private readonly pool = new PixelBufferPool(FREE_BUFFERS);
  private readonly converted = new WeakSet<Uint8Array>();

  /** Whether the detector can read frames of this format. */
  static reads(format: PixelFormat): boolean {
    return format === PixelFormat.BGR24 || format === PixelFormat.I420;
  }

  /** The frame as a BGR image; a format the detector cannot read (FrameImages.reads) throws. */
  imageOf({ pixels, width, height, stride, pixelFormat, colorMatrix, fullRange }: Frame): ImageView {
    if (pixelFormat === PixelFormat.BGR24) return { data: pixels, width, height, stride };
    if (pixelFormat !== PixelFormat.I420) throw new RangeError(`the detector reads BGR24 and I420 frames, not pixel format ${pixelFormat}`);
    const image = this.converter.toBgr({ data: pixels, width, height, stride, colorMatrix, fullRange }, this.pool.take(width * 3 * height));
    this.converted.add(image.data);
    return image;
  }

  /**
   * Done with an image: a converted one's buffer goes back to the pool and true is returned; false for a frame's own
   * pixels, which are the caller's to give back to the transport.
   */
  release(image: ImageView): boolean {
    if (!this.converted.delete(image.data)) return false;
    this.pool.give(image.data);
    return true;
  }
}
