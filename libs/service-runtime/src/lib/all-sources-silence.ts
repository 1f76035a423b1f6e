import { Arrivals } from './arrivals';
import { EpisodeWatch, type EpisodeTelling } from './episode-watch';

export interface AllSourcesSilenceOptions {
  /** Silent after this long (and three of each source's own intervals, where longer); 0: never. */
  limitMs: number;
  /** The clock arrivals and silence are timed on (monotonic, less the process's own silences, say). */
  clock: () => number;
  /** A silence said once as it begins and once as it ends, with its length in milliseconds. */
  telling: EpisodeTelling<number>;
}

/**
 * Whether anything still arrives from a module's sources at all (every camera's detections, or frames): silent once
 * none has for `limitMs`, nor for three of its own intervals where it is slower (Arrivals: a camera at
 * CAPTURE_FPS=0.01 is not silent between two frames once it has an interval, but is in its first gap, before it has
 * one), counted from construction until the first arrival; each silence
 * an episode (EpisodeWatch). One source of several going silent is no silence here: the others still arrive, and
 * that source's own module tells its outage.
 */
export class AllSourcesSilence {
  private readonly sources = new Map<string, Arrivals>();
  private readonly startedAt: number;
  /** The last arrival from any source, forgotten ones included: a silence counts from it. */
  private lastArrivalAt?: number;
  private readonly episodes: EpisodeWatch<number>;

  constructor(private readonly options: AllSourcesSilenceOptions) {
    this.startedAt = options.clock();
    this.episodes = new EpisodeWatch(() => this.measure(), options.telling);
  }

  arrived(sourceId: string): void {
    let source = this.sources.get(sourceId);
    if (!source) this.sources.set(sourceId, (source = new Arrivals()));
    this.lastArrivalAt = this.options.clock();
    source.mark(this.lastArrivalAt);
    // A silence's end said at once, not at the next check.
    if (this.episodes.current !== undefined) this.episodes.check();
  }

  /** Whole milliseconds since anything arrived, once all is silent; undefined while something still arrives. Call it periodically: it tells the episodes. */
  check(): number | undefined {
    return this.episodes.check();
  }

  /** As of the last check(): whole milliseconds since anything arrived while all is silent, else undefined. */
  get silentForMs(): number | undefined {
    return this.episodes.current;
  }

  /** A source that is gone for good (its module removed the camera): no longer among ages() nor judged, until it arrives again. */
  forget(sourceId: string): void {
    this.sources.delete(sourceId);
  }

  /** Whether the source has been heard from and not forgotten since. */
  has(sourceId: string): boolean {
    return this.sources.has(sourceId);
  }

  /** Each source heard from and not forgotten, with the milliseconds since its last arrival. */
  ages(): Array<{ sourceId: string; ms: number }> {
    const now = this.options.clock();
    return [...this.sources].map(([sourceId, source]) => ({ sourceId, ms: now - (source.last ?? now) }));
  }

  private measure(): number | undefined {
    if (this.options.limitMs === 0) return undefined;
    const now = this.options.clock();
    const sources = [...this.sources.values()];
    const lastAt = this.lastArrivalAt ?? this.startedAt;
    if (now - lastAt < this.options.limitMs || !sources.every((source) => source.stalled(now, this.options.limitMs))) return undefined;
    return Math.round(now - lastAt);
  }
}
