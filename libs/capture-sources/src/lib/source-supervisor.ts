import type { Frame } from '@iev/frame-protocol';
import { Backoff } from '@iev/service-runtime';
import type { FrameSource } from './frame-source';
import { VideoSourceError } from './video-source-error';

export type SourceState = 'idle' | 'streaming' | 'retrying' | 'ended' | 'stopped';

/**
 * A source that fails after streaming at least this long starts its backoff over; one that fails sooner (a camera
 * that gives a frame and drops, again and again) keeps backing off instead of restarting twice a second.
 */
const HEALTHY_RUN_MS = 10_000;

/** What a supervisor tells its owner, for logs and metrics. */
export interface SupervisionListener {
  /** The first frame after a start, a restart or a switch; downSeconds: how long the outage before it lasted. */
  streaming?(info: { width: number; height: number; downSeconds?: number }): void;
  /** The source failed and is restarted in retryInMs. */
  failed?(error: Error, retryInMs: number): void;
  /** A file played once has ended. */
  ended?(): void;
}

export interface SourceSupervisorOptions {
  /**
   * A source that fails before the supervisor's first frame fails frames() instead of being retried: a missing or
   * unreadable file at start-up is a configuration error, while a camera or stream may simply not be up yet. Later
   * sources (a switch after a file ended) are retried.
   */
  failFastBeforeFirstFrame: boolean;
  listener?: SupervisionListener;
  /** Delays between restarts (default 0.5 s doubling to 30 s). */
  backoff?: Backoff;
  /**
   * A live source whose decoder delivers no frame for this long (read as each source starts, so it may follow the
   * frame rate) is restarted like one that failed: a USB camera stuck in the kernel or a pipeline that hangs never
   * exits on its own. Unset: no watch. Files that decode on demand are never watched (they wait for their consumer).
   */
  stallTimeoutMs?: () => number;
}

/**
 * Keeps a video source running: restarts a failed one with capped backoff, replaces it live on request (a twin
 * change), and numbers frames on across restarts and switches so consumers see one sequence. frames() is for one
 * consumer; a source that is not live decodes only as fast as that consumer takes frames.
 */
export class SourceSupervisor {
  state: SourceState = 'idle';
  lastFrameAt?: number;
  private source?: FrameSource;
  private stopping = false;
  private cancelRetryWait?: () => void;
  private readonly backoff: Backoff;
  private nextSequence = 0;
  /** Frames decoded by the sources before the current one. */
  private framesDecodedBefore = 0;
  /** When the current outage began (the source failed), until a frame arrives again. */
  private failedAt?: number;
  /** Some source has delivered a frame: failing fast is over. */
  private hadFrame = false;
  /** switchSource calls so far (the same factory may be switched to again, which restarts it). */
  private switches = 0;

  constructor(
    private createSource: () => FrameSource,
    private readonly options: SourceSupervisorOptions,
  ) {
    this.backoff = options.backoff ?? new Backoff(500, 30_000);
  }

  /** Frames every source so far has decoded, taken or not (a live source drops those not taken in time). */
  get framesDecoded(): number {
    return this.framesDecodedBefore + (this.source?.stats.framesDecoded ?? 0);
  }

  /** Whether the running source is live (see FrameSource.live); false before the first one starts. */
  get live(): boolean {
    return this.source?.live ?? false;
  }

  /**
   * Frames from the current source, then from each one after it; ends on stop() or when a file played once ends.
   * Rejects only for a source that fails before the supervisor's first frame with failFastBeforeFirstFrame.
   */
  async *frames(): AsyncGenerator<Frame, void, undefined> {
    while (!this.stopping) {
      // A source switched away from meanwhile was stopped by switchSource: start the new one at once.
      const switches = this.switches;
      const switched = () => this.switches !== switches;
      this.framesDecodedBefore = this.framesDecoded;
      const source = this.createSource();
      this.source = source;
      const watch = this.watchForStall(source);
      try {
        for await (const { header, pixels } of source.frames()) {
          this.lastFrameAt = Date.now();
          if (this.state !== 'streaming') this.nowStreaming(header);
          this.hadFrame = true;
          yield { ...header, sequence: this.nextSequence++, pixels };
        }
        if (switched()) {
          this.state = 'idle';
          continue;
        }
        const stall = watch.stalled();
        if (stall && !this.stopping) {
          await this.waitToRetry(stall);
          continue;
        }
        if (!this.stopping) {
          this.state = 'ended';
          this.options.listener?.ended?.();
        }
        return;
      } catch (error) {
        if (this.stopping) return;
        if (switched()) {
          this.state = 'idle';
          continue;
        }
        const failure = watch.stalled() ?? (error as Error);
        if (!this.hadFrame && this.options.failFastBeforeFirstFrame) throw failure;
        await this.waitToRetry(failure);
      } finally {
        watch.stop();
      }
    }
  }

  /**
   * Replaces the source without a restart of the consumer: the current one is stopped and the new one started,
   * sequence numbers counting on. A new source that fails is retried with backoff like any other. After a file
   * played once has ended, frames() has returned; call it again to read the new source.
   */
  async switchSource(createSource: () => FrameSource): Promise<void> {
    this.createSource = createSource;
    this.switches++;
    this.backoff.reset();
    this.cancelRetryWait?.();
    await this.source?.stop();
  }

  /** Stops the source; frames() ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.cancelRetryWait?.();
    await this.source?.stop();
    this.state = 'stopped';
  }

  /**
   * Stops a live source whose decoder has delivered no frame for stallTimeoutMs; `stalled` then says why, and frames()
   * retries it like a failure. A pause of the whole process (SIGSTOP) is not a stall: the watch starts over after one.
   */
  private watchForStall(source: FrameSource): { stalled(): Error | undefined; stop(): void } {
    const stallMs = this.options.stallTimeoutMs?.();
    if (stallMs === undefined || !source.live) return { stalled: () => undefined, stop: () => undefined };
    let stall: Error | undefined;
    const tickMs = Math.min(1000, stallMs / 4);
    let lastTick = Date.now();
    let lastProgress = lastTick;
    let framesSeen = source.stats.framesDecoded;
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - lastTick > 2 * tickMs || source.stats.framesDecoded !== framesSeen) lastProgress = now;
      lastTick = now;
      framesSeen = source.stats.framesDecoded;
      if (now - lastProgress < stallMs) return;
      clearInterval(timer);
      stall = new VideoSourceError(`${source.label}: no frame for ${(stallMs / 1000).toFixed(1)} s`);
      void source.stop();
    }, tickMs);
    timer.unref();
    return { stalled: () => stall, stop: () => clearInterval(timer) };
  }

  private nowStreaming({ width, height }: { width: number; height: number }): void {
    this.state = 'streaming';
    this.backoff.up(HEALTHY_RUN_MS);
    const downSeconds = this.failedAt === undefined ? undefined : (Date.now() - this.failedAt) / 1000;
    this.failedAt = undefined;
    this.options.listener?.streaming?.({ width, height, downSeconds });
  }

  private async waitToRetry(error: Error): Promise<void> {
    this.state = 'retrying';
    this.failedAt ??= Date.now();
    const delayMs = this.backoff.next();
    this.options.listener?.failed?.(error, delayMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.cancelRetryWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
