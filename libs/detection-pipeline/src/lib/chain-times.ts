/** Frames' times through the chain kept to judge the next: enough for a median that one slow frame does not move. */
const RECENT_TIMES = 32;
/**
 * No frame takes this long through a working chain, whatever the device: the first frames (no times yet, a GPU's
 * first run warming up) and fast models are judged by it. A Raspberry Pi's `default` with reading takes seconds.
 */
const STUCK_FLOOR_MS = 60_000;
/** Of the median time: a frame behind its stream's previous one, a recognition batch, a CPU shared or hot. */
const STUCK_FACTOR = 10;

/**
 * How long frames take through the detection chain (pushed into the model to published or dropped), and the oldest
 * one in it now: a frame there far longer than frames take tells a stage that hangs without failing (a model stream
 * stuck in a native call, a publish), which restarts no worker and, its frame holding its camera unasked,
 * makes no camera stale. Frames waiting for their turn are not in the chain (they are replaced every 250 ms), so
 * none of them can hide a hang. Times come from `clock`, which may leave out the process's own silence (stopped, a
 * suspended VM): that is no stage's.
 */
export class ChainTimes<K> {
  private readonly since = new Map<K, number>();
  private readonly recent: number[] = [];

  constructor(private readonly clock: () => number = () => performance.now()) {}

  entered(key: K): void {
    this.since.set(key, this.clock());
  }

  left(key: K): void {
    const at = this.since.get(key);
    if (at === undefined) return;
    this.since.delete(key);
    this.recent.push(this.clock() - at);
    if (this.recent.length > RECENT_TIMES) this.recent.shift();
  }

  /** The frame longest in the chain now (frames leave in the order they entered, bar a failure) and for how long. */
  oldest(): { key: K; ms: number } | undefined {
    let oldest: { key: K; ms: number } | undefined;
    const now = this.clock();
    for (const [key, at] of this.since) if (!oldest || now - at > oldest.ms) oldest = { key, ms: now - at };
    return oldest;
  }

  /**
   * How long a frame may be in the chain before it is taken for stuck: 60 s, or 10 times the median of the last
   * 32 frames' times where that is longer (a board at seconds a frame is judged by its own pace; one frame that
   * took minutes, a stall that ended, does not move the median).
   */
  stuckAfterMs(): number {
    if (this.recent.length === 0) return STUCK_FLOOR_MS;
    const sorted = [...this.recent].sort((a, b) => a - b);
    return Math.max(STUCK_FLOOR_MS, STUCK_FACTOR * sorted[Math.floor(sorted.length / 2)]);
  }

  /** The oldest frame, where it has been in the chain longer than stuckAfterMs(). */
  stuck(): { key: K; ms: number } | undefined {
    const oldest = this.oldest();
    return oldest && oldest.ms > this.stuckAfterMs() ? oldest : undefined;
  }
}
