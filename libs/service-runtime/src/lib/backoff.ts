/** Capped exponential backoff with jitter, for reconnecting to cameras, streams and brokers. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 500,
    private readonly maxMs = 30_000,
    /** Fraction of each delay randomised, so many devices don't retry in lockstep. */
    private readonly jitter = 0.2,
  ) {}

  /** The delay before the next attempt; each call doubles it up to the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }

  /** Call after a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
