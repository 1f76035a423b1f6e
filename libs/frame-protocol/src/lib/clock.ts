/**
 * Now, in fractional epoch milliseconds: the clock of every timestamp in frames and detections
 * (captureTimeMs, publishedAtMs), comparable across the modules' processes on one host.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
