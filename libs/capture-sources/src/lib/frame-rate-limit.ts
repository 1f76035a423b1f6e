/**
 * Of a frame, what the rate limit lets through early for times rounded (Matroska and FLV keep milliseconds: a 30 fps
 * file at 30 lost a third without it).
 */
export const ROUNDED_TIMES_ALLOWANCE = 0.25;
/**
 * Seconds of arrival jitter it lets through early: an HTTP camera's frames are timed as decoded, and on loaded cores
 * come unevenly, two or three at once (docs/capture/stream.md, "The rate limit").
 */
const JITTER_ALLOWANCE_SECONDS = 0.25;

/**
 * CAPTURE_FPS's token bucket, of frames, as ffmpeg's sources run it in their select filter (rateAndSizeFilters) and
 * GStreamer's in capture itself (FrameRateLimit): it holds at most one frame and the allowances, so a source no faster
 * than the rate keeps every frame though they come unevenly, and a backlog after a stall gives a quarter second's
 * frames and one at most.
 */
export function rateLimitCapacity(fps: number): number {
  return 1 + Math.max(ROUNDED_TIMES_ALLOWANCE, JITTER_ALLOWANCE_SECONDS * fps);
}

/**
 * CAPTURE_FPS for a decoder that cannot drop frames itself without repeating others (gst-launch: GstreamerPipelineSource
 * tells why), by the moments frames arrive on a monotonic clock: the same bucket as ffmpeg's sources, refilled at fps
 * a second, a frame kept where a whole one is there to spend. It only drops. It starts full, as after a stall, where
 * ffmpeg's starts at the first frame and a quarter: arrival times carry jitter from the first frame on, and a camera at
 * the rate sending three frames at once lost two of its first three from a bucket started so low. A backlog at the
 * start (a live videotestsrc catching up the frames it could not write while gst-launch started) is cut like one
 * after a stall.
 */
export class FrameRateLimit {
  private readonly capacity: number;
  private tokens = 0;
  private lastArrivalMs: number | undefined;

  constructor(private readonly fps: number) {
    this.capacity = rateLimitCapacity(fps);
  }

  /** Whether a frame arriving at `arrivalMs` (performance.now()'s clock) is kept; a kept one spends its token. */
  admits(arrivalMs: number): boolean {
    this.tokens = this.lastArrivalMs === undefined ? this.capacity : Math.min(this.capacity, this.tokens + ((arrivalMs - this.lastArrivalMs) / 1000) * this.fps);
    this.lastArrivalMs = arrivalMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
