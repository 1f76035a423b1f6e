/** Events per second over a sliding window: the "current fps" a module reports in its twin and status. */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 10_000) {}

  mark(now = performance.now()): void {
    this.times.push(now);
    this.prune(now);
  }

  perSecond(now = performance.now()): number {
    this.prune(now);
    return Math.round((this.times.length / (this.windowMs / 1000)) * 100) / 100;
  }

  private prune(now: number): void {
    let expired = 0;
    while (expired < this.times.length && this.times[expired] <= now - this.windowMs) expired += 1;
    if (expired > 0) this.times.splice(0, expired);
  }
}
