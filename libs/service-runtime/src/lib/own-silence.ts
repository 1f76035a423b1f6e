/**
 * A process's own silences (stopped, a suspended VM, a clock set forward), told by its periodic checks: a check more
 * than two periods after the one before means it was silent itself, for that gap less the period it was due to
 * take. Only the excess: an event loop late by over a period at every check is still responsive enough to count.
 */
export class OwnSilence {
  private lastCheckAt?: number;
  private totalMs = 0;

  constructor(private readonly checkEveryMs: number) {}

  /** Call every checkEveryMs, on one clock throughout; the silences so far, added up. */
  check(now: number): number {
    if (this.lastCheckAt !== undefined && now - this.lastCheckAt > 2 * this.checkEveryMs) this.totalMs += now - this.lastCheckAt - this.checkEveryMs;
    this.lastCheckAt = now;
    return this.totalMs;
  }

  /** The silences so far, added up at each check(). */
  get ms(): number {
    return this.totalMs;
  }
}
