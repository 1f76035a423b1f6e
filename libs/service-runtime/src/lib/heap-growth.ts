import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent (V8's own factor, 1.1-4x
 * depending on GC speed, left a 15 MB heap about 16 MB to grow).
 */
export const FRAME_MODULE_HEAP_GROWING_PERCENT = 300;

/**
 * For a module that moves frames: V8 counts external memory allocated since the last full GC (every 0.9 MB frame
 * ZeroMQ hands over at 640x480, and capture's pipe reads) against the old generation's room to grow, so a 15 MB
 * heap ran a full mark-compact every ~10 frames, ~3 ms of CPU a frame across the main thread and GC helpers, though
 * almost nothing on the heap had died. A larger factor spaces them out; the frames themselves are still freed by
 * the young generation's GCs. Read by V8 each time it sets the next limit, so setting it at start-up is enough.
 */
export function spaceOutFullGcs(percent = FRAME_MODULE_HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent <= 0) throw new RangeError(`heap growing percent must be a positive integer, got ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
