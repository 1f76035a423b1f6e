import { invalidField } from './fields';
import { PixelFormat } from './types';

const BYTES_PER_PIXEL: Record<PixelFormat, number> = {
  [PixelFormat.BGR24]: 3,
  [PixelFormat.RGB24]: 3,
  [PixelFormat.GRAY8]: 1,
};

/** Narrows a number off the wire (numeric enums accept any number in TypeScript). */
export function isPixelFormat(value: unknown): value is PixelFormat {
  return typeof value === 'number' && Object.hasOwn(BYTES_PER_PIXEL, value);
}

/** Bytes one pixel takes; throws ProtocolError for a value that is not a PixelFormat. */
export function bytesPerPixel(format: PixelFormat): number {
  if (!isPixelFormat(format)) invalidField('pixelFormat', `is not a known pixel format: ${format}`);
  return BYTES_PER_PIXEL[format];
}
