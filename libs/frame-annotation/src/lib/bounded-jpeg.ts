import sharp from 'sharp';
import type { ImageView } from '@iev/text-detection';
import type { Annotation } from './annotation';
import { annotatedImage } from './annotate';
import type { ShadedRegions } from './region-shade';

/** IoT Hub's largest direct method payload (request or response), 128 KB. */
export const METHOD_PAYLOAD_LIMIT_BYTES = 128 * 1024;

/** The most bytes a JPEG may have so that its base64 plus `jsonBytes` of JSON around it fits `payloadBytes`. */
export function jpegBytesForBase64Payload(payloadBytes: number, jsonBytes: number): number {
  return Math.floor((payloadBytes - jsonBytes) / 4) * 3;
}

export interface BoundedJpeg {
  jpeg: Buffer;
  width: number;
  height: number;
  quality: number;
}

// Quality is given up first, down to a level where text still reads; then the picture is made smaller.
const QUALITIES = [85, 75, 65, 55, 45];
const SMALLEST_SIDE = 16;

/**
 * The annotated frame as a JPEG of at most `maxBytes`: the best quality that fits at full size, else at the lowest
 * quality scaled down (outlines, labels and `shaded` regions drawn at full size first) until it fits.
 */
export async function encodeBoundedJpeg(image: ImageView, annotations: readonly Annotation[], maxBytes: number, shaded: ShadedRegions = []): Promise<BoundedJpeg> {
  if (!(maxBytes > 0)) throw new Error(`maxBytes must be a positive number (got ${maxBytes})`);
  const { data: pixels, info } = await annotatedImage(image, annotations, shaded).raw().toBuffer({ resolveWithObject: true });
  const encode = (width: number, height: number, quality: number) =>
    sharp(pixels, { raw: { width: info.width, height: info.height, channels: 3 } })
      .resize(width, height, { fit: 'fill' })
      .jpeg({ quality })
      .toBuffer();

  let jpeg = Buffer.alloc(0);
  for (const quality of QUALITIES) {
    jpeg = await encode(info.width, info.height, quality);
    if (jpeg.length <= maxBytes) return { jpeg, width: info.width, height: info.height, quality };
  }
  const quality = QUALITIES[QUALITIES.length - 1];
  let scale = 1;
  for (;;) {
    // JPEG size goes roughly with the pixel count: aim under the limit in one step, but at least a little smaller.
    scale *= Math.min(0.9, Math.max(0.5, Math.sqrt(maxBytes / jpeg.length) * 0.95));
    const width = Math.round(info.width * scale);
    const height = Math.round(info.height * scale);
    if (Math.min(width, height) < SMALLEST_SIDE) throw new Error(`maxBytes ${maxBytes} is too small for a JPEG of this ${info.width}x${info.height} frame`);
    jpeg = await encode(width, height, quality);
    if (jpeg.length <= maxBytes) return { jpeg, width, height, quality };
  }
}
