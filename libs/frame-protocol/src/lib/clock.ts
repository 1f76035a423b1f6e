/**
 * The epoch milliseconds that performance.now() counts from in this process: performance.timeOrigin at first, moved
 * when the system clock is stepped or slewed away from it (see epochMs).
 */
let origin = performance.timeOrigin;

/**
 * Now, in fractional epoch milliseconds: the clock of every timestamp in frames and detections
 * (captureTimeMs, publishedAtMs), compared across the modules' processes on one host. performance.now() gives the
 * fractions; the system clock (Date.now(), whole milliseconds) keeps every process on the same time. With
 * performance.timeOrigin alone, fixed as each process starts, processes disagreed once the system clock had moved
 * (by ~20 ms on a CI VM: a frame's detections were published "before" it was captured).
 */
export function epochMs(): number {
  const sinceOrigin = performance.now();
  const wall = Date.now();
  // Date.now() is the epoch millisecond now falls in; more than a millisecond either side of it is a clock that moved.
  const drift = origin + sinceOrigin - (wall + 0.5);
  if (Math.abs(drift) > 1.5) origin -= drift;
  return origin + sinceOrigin;
}
