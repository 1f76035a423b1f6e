/**
 * When something (a camera's frames, its detections) last arrived, and at what pace: enough to tell a stall from a
 * source that is merely slow. It has stalled once silent at least a floor and three of its paces. The pace is the
 * shorter of its last two gaps (its one gap, after its second arrival), so that
 * - a camera at CAPTURE_FPS=0.1 is not out between two frames: it is taken for stalled once, in its first gap, when
 *   it has no pace yet;
 * - one long gap, an outage, does not make it look slow after it: the next stall is seen as soon as before, from its
 *   next arrival on;
 * - one that slows down is taken for stalled at most twice while its pace follows;
 * - a burst (a restarted decoder's buffered frames, its first frames after a reconnect) is one arrival to its pace:
 *   once its pace is known from two gaps, an arrival less than half its pace after the last one counted is no gap,
 *   so the next usual gap is no stall. One that speeds up has its pace at least halved at each arrival counted, a
 *   stall seen at its old pace at the latest meanwhile.
 */
export class Arrivals {
  private lastAt?: number;
  /** The last arrival that counted as a gap's end (or the first arrival); undefined before the first. */
  private lastCountedAt?: number;
  private lastGapMs?: number;
  private paceMs = 0;
  /** One gap may be an outage: a pace from it alone makes no arrival a burst. */
  private paceFromTwoGaps = false;

  /** `silentSince`: when silence starts to count before the first arrival (none: nothing stalls before one). */
  constructor(silentSince?: number) {
    this.lastAt = silentSince;
  }

  mark(now: number): void {
    const gapMs = this.lastCountedAt === undefined ? undefined : now - this.lastCountedAt;
    if (gapMs === undefined) {
      this.lastCountedAt = now;
    } else if (!this.paceFromTwoGaps || gapMs >= this.paceMs / 2) {
      this.paceFromTwoGaps = this.lastGapMs !== undefined;
      this.paceMs = Math.min(this.lastGapMs ?? gapMs, gapMs);
      this.lastGapMs = gapMs;
      this.lastCountedAt = now;
    }
    this.lastAt = now;
  }

  /** The last arrival (or `silentSince` before the first); undefined before either. */
  get last(): number | undefined {
    return this.lastAt;
  }

  /** Whole milliseconds since the last arrival; null before the first. */
  ageMs(now: number): number | null {
    return this.lastCountedAt !== undefined && this.lastAt !== undefined ? Math.round(now - this.lastAt) : null;
  }

  /** Silent for at least `floorMs` and three of its paces, less `notCountedMs` of that silence (the watcher's own, say). */
  stalled(now: number, floorMs: number, notCountedMs = 0): boolean {
    return this.lastAt !== undefined && now - this.lastAt - notCountedMs >= Math.max(floorMs, 3 * this.paceMs);
  }
}
