import { encodeFrameJpeg, type RgbFrame } from '@iev/frame-annotation';
import type { Point } from '@iev/frame-protocol';

/**
 * The largest thumbnail: twice what the page shows of one (14rem by 48 px), for a high-density screen. A longer or
 * taller line is scaled down to fit, its shape kept: a 4K camera's full-width line at its own size is ~0.5 MB, and a
 * list keeps 50 of them and sends each over the link.
 */
export const LINE_THUMBNAIL_MAX = { width: 448, height: 96 };

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

/** The thumbnail's size for a rectangle: its own, or scaled down to fit LINE_THUMBNAIL_MAX. */
export function thumbnailSize({ width, height }: PixelRect): { width: number; height: number } {
  const scale = Math.min(1, LINE_THUMBNAIL_MAX.width / width, LINE_THUMBNAIL_MAX.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * The rectangle of the frame as a JPEG, at thumbnailSize. The pixels are read during the call when the rectangle is
 * narrower than the frame (packed into a copy first); a full-width one is read by the encoder later, so its caller
 * holds the frame until the promise settles.
 */
export function encodeLineThumbnail(frame: RgbFrame, rect: PixelRect, quality = 80): Promise<Buffer> {
  const { x, y, width, height } = rect;
  const crop: RgbFrame = { data: frame.data.subarray(y * frame.stride + x * 3), width, height, stride: frame.stride, channelOrder: 'rgb' };
  return encodeFrameJpeg(crop, quality, thumbnailSize(rect));
}
