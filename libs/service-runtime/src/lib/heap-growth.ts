import { setFlagsFromString } from 'node:v8';

/**
 * For a module that moves frames: V8 counts external memory allocated since the last full GC (every 0.9 MB frame
 * ZeroMQ hands over at 640x480, and capture's pipe reads) against the old generation's room to grow, and its own
 * factor (1.1-4x depending on GC speed) left a 15 MB heap about 16 MB: a full mark-compact every ~10 frames, ~3 ms of
 * CPU a frame across the main thread and GC helpers, though almost nothing on the heap had died. 4x spaces them out.
 * Inference now also hands each frame back as soon as it is done with it (releaseReceived in zmq-transport), which
 * ends most of those GCs; the factor stays for what other external memory comes and goes.
 */
export const FRAMES_HEAP_GROWING_PERCENT = 300;

/**
 * For a module that handles small messages for hours (telemetry): the little it promotes to the old generation dies
 * there slowly, and V8's own factor (up to 4x a 27 MB live heap) let the heap and RSS creep up for the whole of a
 * 60-minute soak (+11 %, the live heap flat between heap snapshots). 1.2x (with V8's minimum step) keeps the old
 * generation near what lives; in the next soak telemetry grew +3.7 % with its young generation capped as well.
 */
export const MESSAGES_HEAP_GROWING_PERCENT = 20;

/**
 * How far V8 lets the old generation grow past what the last full GC kept (0: V8's own choice,
 * from its GC and mutator speeds); V8 reads it each time it sets the limit, so it can change while the module runs.
 */
export function setHeapGrowingPercent(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent must be a non-negative integer, got ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
