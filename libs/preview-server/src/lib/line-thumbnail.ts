import { encodeFrameJpeg, type RgbFrame } from '@iev/frame-annotation';
import type { Point } from '@iev/frame-protocol';

/** A rectangle of a frame, in its pixels. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The smallest rectangle of whole pixels holding a box's points, within the frame's bounds; undefined where none of it
 * is inside (a box of another frame size than the frame's).
 */
export function lineRect(points: readonly Point[], frameWidth: number, frameHeight: number): PixelRect | undefined {
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const x = Math.max(0, Math.floor(Math.min(...xs)));
  const y = Math.max(0, Math.floor(Math.min(...ys)));
  const right = Math.min(frameWidth, Math.ceil(Math.max(...xs)));
  const bottom = Math.min(frameHeight, Math.ceil(Math.max(...ys)));
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : undefined;
}

/**
 * The rectangle of the frame as a JPEG, at its own size. The pixels are read during the call when the rectangle is
 * narrower than the frame (packed into a copy first); a full-width one is read by the encoder later, so its caller
 * holds the frame until the promise settles.
 */
export function encodeLineThumbnail(frame: RgbFrame, { x, y, width, height }: PixelRect, quality = 80): Promise<Buffer> {
  const crop: RgbFrame = { data: frame.data.subarray(y * frame.stride + x * 3), width, height, stride: frame.stride, channelOrder: 'rgb' };
  return encodeFrameJpeg(crop, quality);
}
