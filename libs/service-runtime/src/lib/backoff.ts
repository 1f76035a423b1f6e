/** Capped exponential backoff with jitter, for reconnecting to cameras, streams and brokers. */
export class Backoff {
  private attempt = 0;
  /** When what it guards, up again (up()), will have stayed up long enough to count as recovered (monotonic: NTP steps the wall clock). */
  private healthyAt?: number;

  constructor(
    private readonly initialMs = 500,
    private readonly maxMs = 30_000,
    /** Fraction of each delay randomised, so many devices don't retry in lockstep. */
    private readonly jitter = 0.2,
  ) {}

  /** The delay before the next attempt; each call doubles it up to the cap (see up() for when it starts over). */
  next(): number {
    if (this.healthyAt !== undefined && performance.now() >= this.healthyAt) this.attempt = 0;
    this.healthyAt = undefined;
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt += 1;
    return this.jittered(base);
  }

  /**
   * Call when what it guards (a source, a connection) is up again: a failure after it stayed up `healthyMs` starts
   * from the initial delay again; one sooner (a camera that gives a frame and drops, a connection taken over at once)
   * keeps backing off instead of retrying at the initial delay for good.
   */
  up(healthyMs: number): void {
    this.healthyAt = performance.now() + healthyMs;
  }

  /** The longest delay at once, counted as an attempt: for a failure that retrying sooner cannot mend. */
  longest(): number {
    this.next();
    return this.jittered(this.maxMs);
  }

  /** A backoff of the same delays from the first: for an attempt retried beside what this one guards (a source switched to). */
  fresh(): Backoff {
    return new Backoff(this.initialMs, this.maxMs, this.jitter);
  }

  /** Call after a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }

  private jittered(delayMs: number): number {
    return Math.round(delayMs * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }
}
