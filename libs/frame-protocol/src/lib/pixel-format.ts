import { invalidField } from './fields';
import { type FrameHeader, PixelFormat } from './types';

/** How a format's bytes lie: the least stride a row of its pixels needs, and a frame's whole length. */
interface PixelLayout {
  rowBytes(width: number): number;
  frameBytes(stride: number, height: number): number;
}

const packed = (bytesPerPixel: number): PixelLayout => ({ rowBytes: (width) => width * bytesPerPixel, frameBytes: (stride, height) => stride * height });

const LAYOUTS: Record<PixelFormat, PixelLayout> = {
  [PixelFormat.BGR24]: packed(3),
  [PixelFormat.RGB24]: packed(3),
  [PixelFormat.GRAY8]: packed(1),
  [PixelFormat.I420]: { rowBytes: (width) => width, frameBytes: (stride, height) => i420Planes({ stride, height }).byteLength },
};

/** Chroma rows (and bytes per chroma row) of a 4:2:0 frame: one for every two luma ones, rounded up. */
const chromaSize = (lumaSize: number): number => Math.ceil(lumaSize / 2);

/** Narrows a number off the wire (numeric enums accept any number in TypeScript). */
export function isPixelFormat(value: unknown): value is PixelFormat {
  return typeof value === 'number' && Object.hasOwn(LAYOUTS, value);
}

function layoutOf(format: PixelFormat): PixelLayout {
  if (!isPixelFormat(format)) invalidField('pixelFormat', `is not a known pixel format: ${format}`);
  return LAYOUTS[format];
}

/** The least stride a row of `width` pixels needs (I420: its luma row); throws ProtocolError for a value that is not a PixelFormat. */
export function minStride(format: PixelFormat, width: number): number {
  return layoutOf(format).rowBytes(width);
}

/** Bytes a frame's pixels take: rows of `stride` bytes, and for I420 the two chroma planes after them. */
export function pixelByteLength({ pixelFormat, stride, height }: Pick<FrameHeader, 'pixelFormat' | 'stride' | 'height'>): number {
  return layoutOf(pixelFormat).frameBytes(stride, height);
}

/**
 * Where an I420 frame's planes lie in its pixels: Y rows of `stride` bytes, then U, then V, each of `chromaHeight` rows
 * of `chromaStride` bytes; `byteLength` in all.
 */
export interface I420Planes {
  chromaStride: number;
  chromaHeight: number;
  uOffset: number;
  vOffset: number;
  byteLength: number;
}

export function i420Planes({ stride, height }: Pick<FrameHeader, 'stride' | 'height'>): I420Planes {
  const chromaStride = chromaSize(stride);
  const chromaHeight = chromaSize(height);
  const planeBytes = chromaStride * chromaHeight;
  const uOffset = stride * height;
  return { chromaStride, chromaHeight, uOffset, vOffset: uOffset + planeBytes, byteLength: uOffset + 2 * planeBytes };
}
