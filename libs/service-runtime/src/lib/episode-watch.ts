/** What an EpisodeWatch says: once when a trouble begins, and once when it ends. */
export interface EpisodeTelling<T> {
  began(trouble: T): void;
  /** With the trouble as the last check before its end saw it. */
  ended(last: T): void;
}

/**
 * A lasting trouble (a link silent, a peer away, a stage hung) told as episodes, judged at each check(): said once when it is
 * first found and once when it is gone, not at every check between, so a day's outage is two log lines; `current`
 * is for /health meanwhile.
 */
export class EpisodeWatch<T> {
  private last: T | undefined;

  /** `measure`: the trouble as it is now, undefined while there is none. */
  constructor(
    private readonly measure: () => T | undefined,
    private readonly telling: EpisodeTelling<T>,
  ) {}

  check(): T | undefined {
    const trouble = this.measure();
    if (trouble !== undefined && this.last === undefined) this.telling.began(trouble);
    else if (trouble === undefined && this.last !== undefined) this.telling.ended(this.last);
    this.last = trouble;
    return trouble;
  }

  /** The trouble as of the last check; undefined while there is none. */
  get current(): T | undefined {
    return this.last;
  }
}
