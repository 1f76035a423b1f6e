import { Arrivals } from './arrivals';
import { OwnSilence } from './own-silence';
import { RateMeter } from './rate-meter';

/** One source as a module's /health shows it. */
export interface SourceReport {
  sourceId: string;
  /** Frames done per second over the last window (RateMeter's). */
  fps: number;
  frames: number;
  /** Frames of this source never done (gaps in its sequence numbers). */
  skipped: number;
  /** Capture → done (detections published), the median of its last frames. */
  latencyMs: number;
  /** When its last frame was done (ISO 8601). */
  lastFrameAt: string;
  /** No frame for staleAfterMs while one was asked for: the source stalled or went away. */
  stale: boolean;
  /** Times it went stale. */
  outages: number;
}

export interface SourceActivityOptions {
  /**
   * A source that delivers no frame for this long while one is asked of it counts as stale (default 5000 ms), or for
   * three of its own intervals where it is slower (a camera at CAPTURE_FPS=0.1 is not out between two frames; see
   * Arrivals).
   */
  staleAfterMs?: number;
  /**
   * How often the owner calls check() (default 1000 ms, a timer's period): a gap of more than two periods between
   * checks is this process's own silence beyond the one period it was due to take (see check()).
   */
  checkEveryMs?: number;
  /** Called once each time a source goes stale (from check()), with how long it has been without a frame. */
  onOutage?(sourceId: string, silentMs: number): void;
  /** Called at the first frame received of a source that had gone stale, with how long it had been without one. */
  onResumed?(sourceId: string, downMs: number): void;
}

/** The latencies a source's median is taken over. */
const LATENCY_SAMPLES = 32;

interface SourceState {
  rate: RateMeter;
  frames: number;
  skipped: number;
  latencies: number[];
  /** When its last frame was done (or its state was made). */
  lastDoneAt: number;
  /**
   * Its frames received, on a clock that leaves out heldMs: their pace is the source's answer to being asked, not the
   * model's (a camera whose frames each wait 3 s here is not told 9 s after it died); silence counted from its state's
   * making (a source first heard of by a skip).
   */
  arrivals: Arrivals;
  /** When its last frame was received (or its state was made). */
  receivedAt: number;
  /** Its frames this process holds (received, not yet let go): while it does, their source is not asked for another. */
  held: number;
  /** Since when held has been above 0. */
  heldSince: number;
  /** How long its frames have been held here, all told: time it was not asked for one. */
  heldMs: number;
  /** This process's own silence (OwnSilence.ms) when it last asked it for a frame: what came after is not its silence. */
  ownSilentMsAtAsk: number;
  stale: boolean;
  outages: number;
}

/**
 * What each source of a module with several (one camera each) is doing: its rate, skips, latency and last frame,
 * so /health shows per camera whether it keeps up, and a camera that stalls or goes away shows as stale and has
 * its outage counted.
 *
 * Staleness is judged by the frames a source delivers (received()), against the time it was asked for one: frames
 * come on demand, a source's next only once this process lets its last go (waitingFor()). A model that takes a
 * source's frames only every few seconds (several cameras, a slow preset, a loaded CPU) thus leaves each camera
 * silent that long, which is not the camera's doing: only silence while a frame is wanted is counted. Times are on the
 * monotonic clock (performance.now()): the wall clock set back by NTP would hide an outage as long as the step.
 */
export class SourceActivity {
  private readonly sources = new Map<string, SourceState>();
  /** Sources forgotten, and when: frames of theirs still in flight then are not counted (see forget). */
  private readonly forgotten = new Map<string, number>();
  private readonly staleAfterMs: number;
  /** This process's own silences, told by check(): its sources are not blamed for them. */
  private readonly ownSilence: OwnSilence;

  constructor(private readonly options: SourceActivityOptions = {}) {
    this.staleAfterMs = options.staleAfterMs ?? 5000;
    this.ownSilence = new OwnSilence(options.checkEveryMs ?? 1000);
  }

  /**
   * A frame of the source arrived: it delivered. Until waitingFor(), this process holds it and does not ask the
   * source for another, so no silence counts.
   */
  received(sourceId: string, now = performance.now()): void {
    const source = this.source(sourceId, now);
    if (!source) return;
    if (source.stale) this.options.onResumed?.(sourceId, now - source.receivedAt);
    source.stale = false;
    source.arrivals.mark(now - source.heldMs);
    source.receivedAt = now;
    if (source.held++ === 0) source.heldSince = now;
  }

  /** This process let a received frame of the source go and asks it for the next: its silence counts from now. */
  waitingFor(sourceId: string, now = performance.now()): void {
    const source = this.sources.get(sourceId);
    if (!source || source.held === 0) return;
    if (--source.held > 0) return;
    source.heldMs += now - source.heldSince;
    source.ownSilentMsAtAsk = this.ownSilence.ms;
  }

  /** A frame of the source was done, `latencyMs` after it was captured. */
  done(sourceId: string, latencyMs: number, now = performance.now()): void {
    const source = this.source(sourceId, now);
    if (!source) return;
    source.lastDoneAt = now;
    source.rate.mark(now);
    source.frames++;
    source.latencies.push(latencyMs);
    if (source.latencies.length > LATENCY_SAMPLES) source.latencies.shift();
  }

  /** Frames of the source that will never be done. */
  skipped(sourceId: string, count: number, now = performance.now()): void {
    const source = this.source(sourceId, now);
    if (source) source.skipped += count;
  }

  /**
   * A source that is gone for good (a camera removed): no longer shown, nor counted as stale. Its frames done within
   * staleAfterMs after this were in flight when it went, and are not counted; a source of the same id later is new.
   */
  forget(sourceId: string, now = performance.now()): void {
    this.sources.delete(sourceId);
    this.forgotten.set(sourceId, now);
  }

  /**
   * The sources that delivered no frame for `ms`, none of theirs held here: a camera removed, or long dead. This
   * process's own silence since each was asked (as of the last check()) is not theirs: woken after an hour stopped, it
   * would have taken every source for one gone.
   */
  silentFor(ms: number, now = performance.now()): string[] {
    return [...this.sources]
      .filter(([, source]) => source.held === 0 && now - source.receivedAt - (this.ownSilence.ms - source.ownSilentMsAtAsk) >= ms)
      .map(([sourceId]) => sourceId);
  }

  /** A source of this id is new (a camera added again soon after it was forgotten): its frames count from now. */
  expect(sourceId: string): void {
    this.forgotten.delete(sourceId);
  }

  /**
   * Marks sources that delivered no frame for staleAfterMs (see the option) of being asked as stale, counting each
   * outage once: call it every checkEveryMs. A check more than two periods after the last one means this process was
   * silent itself (stopped, a suspended VM): its sources' frames waited to be taken, so that
   * silence beyond the period it was due to take is not theirs, and each has what was left of its stale time again
   * from the waking (for a request, maybe a reconnect and a model run). Only the excess: an event loop late by over a
   * period at every check still has a dead camera told, a little later.
   */
  check(now = performance.now()): void {
    for (const [sourceId, forgottenAt] of this.forgotten) if (now - forgottenAt >= this.staleAfterMs) this.forgotten.delete(sourceId);
    const ownSilentMs = this.ownSilence.check(now);
    for (const [sourceId, source] of this.sources) {
      if (source.stale || source.held > 0) continue;
      // Not its silence: the time its frames were held here (its clock leaves that out), and this process's own since
      // it was last asked.
      if (!source.arrivals.stalled(now - source.heldMs, this.staleAfterMs, ownSilentMs - source.ownSilentMsAtAsk)) continue;
      source.stale = true;
      source.outages++;
      this.options.onOutage?.(sourceId, now - source.receivedAt);
    }
  }

  /** `wallNow`: the wall clock at `now`, which the last frames' times are told on. */
  report(now = performance.now(), wallNow = Date.now()): SourceReport[] {
    this.check(now);
    return [...this.sources].map(([sourceId, source]) => ({
      sourceId,
      fps: source.rate.perSecond(now),
      frames: source.frames,
      skipped: source.skipped,
      latencyMs: median(source.latencies),
      lastFrameAt: new Date(wallNow - (now - source.lastDoneAt)).toISOString(),
      stale: source.stale,
      outages: source.outages,
    }));
  }

  /** The source's state, made at its first frame received or done; undefined for one forgotten less than staleAfterMs ago. */
  private source(sourceId: string, now: number): SourceState | undefined {
    let source = this.sources.get(sourceId);
    if (!source) {
      const forgottenAt = this.forgotten.get(sourceId);
      if (forgottenAt !== undefined && now - forgottenAt < this.staleAfterMs) return undefined;
      this.forgotten.delete(sourceId);
      source = {
        rate: new RateMeter(),
        frames: 0,
        skipped: 0,
        latencies: [],
        lastDoneAt: now,
        arrivals: new Arrivals(now),
        receivedAt: now,
        held: 0,
        heldSince: now,
        heldMs: 0,
        ownSilentMsAtAsk: this.ownSilence.ms,
        stale: false,
        outages: 0,
      };
      this.sources.set(sourceId, source);
    }
    return source;
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
