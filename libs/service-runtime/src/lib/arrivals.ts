/**
 * When something (a camera's frames, its detections) last arrived, and at what pace: enough to tell a stall from a
 * source that is merely slow. It has stalled once silent at least a floor and three of its paces. The pace is the
 * shorter of its last two gaps (its one gap, after its second arrival), so that
 * - a camera at CAPTURE_FPS=0.1 is not out between two frames: it is taken for stalled once, in its first gap, when
 *   it has no pace yet;
 * - one long gap, an outage, does not make it look slow after it: the next stall is seen as soon as before, from its
 *   next arrival on;
 * - one that slows down is taken for stalled at most twice while its pace follows.
 */
export class Arrivals {
  private lastAt?: number;
  private arrived = false;
  private lastGapMs?: number;
  private paceMs = 0;

  /** `silentSince`: when silence starts to count before the first arrival (none: nothing stalls before one). */
  constructor(silentSince?: number) {
    this.lastAt = silentSince;
  }

  mark(now: number): void {
    if (this.arrived && this.lastAt !== undefined) {
      const gapMs = now - this.lastAt;
      this.paceMs = Math.min(this.lastGapMs ?? gapMs, gapMs);
      this.lastGapMs = gapMs;
    }
    this.lastAt = now;
    this.arrived = true;
  }

  /** The last arrival (or `silentSince` before the first); undefined before either. */
  get last(): number | undefined {
    return this.lastAt;
  }

  /** Whole milliseconds since the last arrival; null before the first. */
  ageMs(now: number): number | null {
    return this.arrived && this.lastAt !== undefined ? Math.round(now - this.lastAt) : null;
  }

  /** Silent for at least `floorMs` and three of its paces. */
  stalled(now: number, floorMs: number): boolean {
    return this.lastAt !== undefined && now - this.lastAt >= Math.max(floorMs, 3 * this.paceMs);
  }
}
