import { EpisodeWatch } from '@iev/service-runtime';

/** Times of the work that left kept to judge the next: enough for a median that one slow piece does not move. */
const RECENT_TIMES = 32;
/**
 * No frame takes this long through a working chain, nor a batch through a working reader, whatever the device: the
 * first pieces (no times yet, a GPU's first run warming up) and fast models are judged by it. A Raspberry Pi's
 * `default` with reading takes seconds a frame.
 */
export const STUCK_FLOOR_MS = 60_000;
/** Of the median time: a frame behind its stream's previous one, a recognition batch, a CPU shared or hot. */
const STUCK_FACTOR = 10;

/**
 * How long pieces of work take through a stage that may hang without failing, and the oldest one in it now: a
 * frame in the detection chain (pushed into the model to published or dropped: a model stream stuck in a native
 * call, a publish), a batch of lines at the recognition model (VideoTextReader). A hang restarts no worker and,
 * frames coming on demand, makes no camera stale: a piece there far longer than pieces take is what tells it.
 * Frames waiting for their turn are not in the chain (they are replaced every 250 ms), so none of them can hide a
 * hang. Times come from `clock`, which may leave out the process's own silence (stopped, a suspended VM): that is
 * no stage's.
 */
export class InFlightTimes<K> {
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

  /** The piece longest in the stage now (pieces leave in the order they entered, bar a failure) and for how long. */
  oldest(): { key: K; ms: number } | undefined {
    let oldest: { key: K; ms: number } | undefined;
    const now = this.clock();
    for (const [key, at] of this.since) if (!oldest || now - at > oldest.ms) oldest = { key, ms: now - at };
    return oldest;
  }

  /**
   * How long a piece may be in the stage before it is taken for stuck: 60 s, or 10 times the median of the last
   * 32 pieces' times where that is longer (a board at seconds a frame is judged by its own pace; one piece that
   * took minutes, a stall that ended, does not move the median).
   */
  stuckAfterMs(): number {
    const median = this.medianMs();
    return median === undefined ? STUCK_FLOOR_MS : Math.max(STUCK_FLOOR_MS, STUCK_FACTOR * median);
  }

  /** How long pieces take: the median of the last 32 pieces' times; undefined before the first has left. */
  medianMs(): number | undefined {
    if (this.recent.length === 0) return undefined;
    const sorted = [...this.recent].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** The oldest piece, where it has been in the stage longer than stuckAfterMs(). */
  stuck(): { key: K; ms: number } | undefined {
    const oldest = this.oldest();
    return oldest && oldest.ms > this.stuckAfterMs() ? oldest : undefined;
  }
}

/** What a HangWatch says: once when a piece is stuck, and once when none is any more. */
export interface HangTelling<K> {
  stuck(stuck: { key: K; ms: number }): void;
  moving(stuckMs: number): void;
  /** Once an episode, when its piece has been in the stage `tooLongAfterMs`: what is to be done about a hang that lasts. */
  tooLong?(stuck: { key: K; ms: number }): void;
}

/**
 * A stage's hangs as episodes (EpisodeWatch), judged at each check(): one is said when a piece is first found stuck
 * and when no piece is any more, not at every check between; stuckMs is for /health. Given `tooLongAfterMs`, an
 * episode whose piece has been in the stage that long (on the times' clock) is told once more, as `tooLong`.
 */
export class HangWatch<K> {
  private readonly episodes: EpisodeWatch<{ key: K; ms: number }>;
  private toldTooLong = false;

  constructor(
    times: Pick<InFlightTimes<K>, 'stuck'>,
    private readonly telling: HangTelling<K>,
    private readonly tooLongAfterMs?: number,
  ) {
    this.episodes = new EpisodeWatch(() => times.stuck(), { began: (stuck) => telling.stuck(stuck), ended: ({ ms }) => telling.moving(ms) });
  }

  check(): void {
    const stuck = this.episodes.check();
    if (stuck === undefined) this.toldTooLong = false;
    else if (this.tooLongAfterMs !== undefined && stuck.ms >= this.tooLongAfterMs && !this.toldTooLong) {
      this.toldTooLong = true;
      this.telling.tooLong?.(stuck);
    }
  }

  /** How long the stuck piece had been in the stage at the last check, in whole ms; undefined while none is. */
  get stuckMs(): number | undefined {
    const stuck = this.episodes.current;
    return stuck === undefined ? undefined : Math.round(stuck.ms);
  }
}
