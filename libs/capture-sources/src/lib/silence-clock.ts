/**
 * How long a source has delivered no frame, as a watch ticking every `tickMs` sees it. A tick more than two ticks
 * late means the process did not run meanwhile (paused by SIGSTOP, a suspended VM, an event loop held up on a loaded
 * machine): that time is not the source's silence, though what came before it is. Starting over there instead let a
 * loop late now and then (a busy CI runner) put off a real stall for ever.
 */
export class SilenceClock {
  private lastTick: number;
  private silentSince: number;

  constructor(
    private readonly tickMs: number,
    now: number,
    private framesSeen: number,
  ) {
    this.lastTick = now;
    this.silentSince = now;
  }

  /** At a tick, with the frames decoded so far: the silence up to now (ms). */
  tick(now: number, framesDecoded: number): number {
    const sinceTick = now - this.lastTick;
    if (framesDecoded !== this.framesSeen) this.silentSince = now;
    else if (sinceTick > 2 * this.tickMs) this.silentSince += sinceTick - this.tickMs;
    this.lastTick = now;
    this.framesSeen = framesDecoded;
    return now - this.silentSince;
  }
}
