import type { DetResizeOptions } from '../types';
import { roundHalfToEven } from './round-half-to-even';

export interface Size {
  height: number;
  width: number;
}

/** The network input size PaddleOCR's DetResizeForTest gives an image of `height` x `width`. */
export function detResizeShape(height: number, width: number, options: DetResizeOptions): Size {
  if (options.kind === 'fixed') return { height: options.height, width: options.width };
  const ratio = limitRatio(height, width, options.limitSideLen, options.limitType);
  return { height: roundToStride(Math.trunc(height * ratio)), width: roundToStride(Math.trunc(width * ratio)) };
}

function limitRatio(height: number, width: number, limit: number, type: 'min' | 'max' | 'resize_long'): number {
  switch (type) {
    case 'max':
      return Math.max(height, width) > limit ? limit / Math.max(height, width) : 1;
    case 'min':
      return Math.min(height, width) < limit ? limit / Math.min(height, width) : 1;
    case 'resize_long':
      return limit / Math.max(height, width);
  }
}

/** `max(int(round(side / 32) * 32), 32)`: the DB network downsamples by 32; Python rounds ties to even. */
function roundToStride(side: number): number {
  return Math.max(roundHalfToEven(side / 32) * 32, 32);
}
