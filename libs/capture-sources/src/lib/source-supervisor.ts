import type { Frame, FrameHeader } from '@iev/frame-protocol';
import { Backoff } from '@iev/service-runtime';
import type { Crop } from './crop';
import { assertSendableSize, type CapturedFrame, type FrameSource } from './frame-source';
import { assertCropFitsKnownPicture, assertCropFitsPicture, type KnownPicture, sameSettings, type SourceSettings } from './prepare-source';
import type { SourceDescription } from './resolve-source';
import { canRunSideBySideResolved } from './side-by-side';
import { SilenceClock } from './silence-clock';
import { VideoFileSource } from './video-file-source';
import { VideoSourceError } from './video-source-error';

export type SourceState = 'idle' | 'streaming' | 'retrying' | 'ended' | 'stopped';

/** See SourceSupervisorOptions.healthyRunMs. */
const HEALTHY_RUN_MS = 10_000;
/**
 * What a live source's first frame gets on top of the stall timeout: ffmpeg probes a stream for up to 5 s
 * (analyzeduration) and then waits for a key frame, which an IP camera may send only every few seconds. A stream
 * slow to open was otherwise restarted for good, each time before its first frame.
 */
const FIRST_FRAME_GRACE_MS = 15_000;

export interface StreamingInfo extends Pick<FrameHeader, 'width' | 'height' | 'colorMatrix' | 'fullRange'> {
  downSeconds?: number;
}

/** What a supervisor tells its owner, for logs and metrics. */
export interface SupervisionListener {
  /** The first frame after a start, a restart or a switch, its size and colours; downSeconds: how long the outage before it lasted. */
  streaming?(info: StreamingInfo): void;
  /** The source failed and is restarted in retryInMs. */
  failed?(error: Error, retryInMs: number): void;
  /** A file played once has ended. */
  ended?(): void;
  /**
   * A source switched to make-before-break failed before its first frame and is retried in retryInMs; the running one
   * keeps delivering. attempt: that switch's failures so far (1 for each new switch's first).
   */
  switchFailed?(error: Error, retryInMs: number, attempt: number): void;
}

/** What a source is, for a switch to it to be made as it can (see SourceSupervisor.switchSource); a PreparedSource is one. */
export interface SourceIdentity {
  description: SourceDescription;
  /** What it was made from: a source of the same settings is the same source. */
  settings: SourceSettings;
  /** Its crop, read (PreparedSource.crop): one of the running source's picture is checked against it (assertCropFits). */
  crop?: Crop;
  /** Its picture where known before it starts (PreparedSource.picture), which assertCropFits checks the crop against otherwise. */
  picture?: KnownPicture;
}

/**
 * A source to switch to (a PreparedSource is one): create() makes a fresh one each call; what it is, where given, lets
 * the switch be make-before-break (see SourceSupervisor.switchSource).
 */
export type SwitchTarget = { create(): FrameSource } & (SourceIdentity | { description?: undefined; settings?: undefined; crop?: undefined; picture?: undefined });

/** A make-before-break switch whose new source has not delivered its first frame yet (see SourceSupervisor.switchSource). */
export interface SwitchPending {
  /** When the switch was asked for (epoch ms), as status and the twin show it; how long ago is switchPendingSeconds. */
  since: number;
  /** Attempts of the new source that failed so far. */
  failures: number;
  /** Why the last one failed. */
  error?: string;
}

/** A source switched to make-before-break, started beside the running one. */
interface Pending {
  create: () => FrameSource;
  identity: SourceIdentity;
  status: SwitchPending;
  /** When the switch was asked for on the monotonic clock: the wall clock may step (NTP at a board's boot without RTC). */
  askedAt: number;
  /** The attempt running now, stopped when the switch is superseded, the running source fails, or on stop(). */
  source?: FrameSource;
  /** Ends the wait before the next attempt. */
  cancelWait?: () => void;
}

/** A pending source's first frame: it takes over at once, its frames read on where the first one was taken. */
interface Takeover {
  source: FrameSource;
  frames: AsyncGenerator<CapturedFrame, void, undefined>;
}

export interface SourceSupervisorOptions {
  /**
   * A source that fails before the supervisor's first frame fails frames() instead of being retried: a missing or
   * unreadable file at start-up is a configuration error, while a camera or stream may simply not be up yet. A source
   * switched to (a twin change, before the first frame too) is retried.
   */
  failFastBeforeFirstFrame: boolean;
  listener?: SupervisionListener;
  /** Delays between restarts (default 0.5 s doubling to 30 s). */
  backoff?: Backoff;
  /**
   * A live source whose decoder delivers no frame for this long (read as each source starts, so it may follow the
   * frame rate; its first frame gets FIRST_FRAME_GRACE_MS more) is restarted like one that failed: a USB camera stuck
   * in the kernel or a pipeline that hangs never exits on its own. Unset: no watch. Files are never watched: on demand
   * they wait for their consumer, and at their own rate their frames may be further apart than any limit (a timelapse,
   * a motion-triggered recording's gaps), where a restart would only play their start again.
   */
  stallTimeoutMs?: () => number;
  /**
   * The setting that gives stallTimeoutMs (stallAfterMs), named in a stall's error as the one to change, read with it
   * as each source starts (a twin may change the rate): default CAPTURE_STREAM_TIMEOUT (see stallSetting).
   */
  stallSetting?: () => string;
  /**
   * A source that delivers frames for this long (default 10 s) has recovered: its next failure starts the backoff
   * over. One that fails sooner (a camera that gives a frame and drops, or goes silent, again and again) keeps backing
   * off instead of restarting twice a second.
   */
  healthyRunMs?: number;
  /** What the first source is: given with each switch's too, a switch may be make-before-break (see switchSource). */
  identity?: SourceIdentity;
}

/**
 * Keeps a video source running: restarts a failed one with capped backoff, replaces it live on request (a twin
 * change), and numbers frames on across restarts and switches so consumers see one sequence, with a gap where a live
 * source dropped frames its consumer did not take in time. frames() is for one
 * consumer; a source that is not live decodes only as fast as that consumer takes frames.
 */
export class SourceSupervisor {
  state: SourceState = 'idle';
  /** When the last frame came (epoch ms), as status shows it. Durations here are on the monotonic clock, which no NTP step moves. */
  lastFrameAt?: number;
  private source?: FrameSource;
  private stopping = false;
  /** Ends the wait frames() is in, a retry's delay or after a file played once has ended: a switch or stop() came. */
  private wake?: () => void;
  private readonly backoff: Backoff;
  private readonly healthyRunMs: number;
  private nextSequence = 0;
  /** Frames decoded by the sources before the current one. */
  private framesDecodedBefore = 0;
  /** When the current outage began (the source failed), until a frame arrives again. */
  private failedAt?: number;
  /** When the running source delivered its first frame, until it has streamed long enough to reset the backoff. */
  private recoveringSince?: number;
  /** Some source has delivered a frame: failing fast is over. */
  private hadFrame = false;
  /** Switches made so far (the same factory may be switched to again, which restarts it). */
  private switches = 0;
  /** What the running source is, where its owner said (see switchSource). */
  private identity?: SourceIdentity;
  /** What `source` is: identity as frames() started it, which a switch sets ahead while the source it replaces stops. */
  private sourceIdentity?: SourceIdentity;
  private pending?: Pending;
  /** switchSource calls so far: of two at once, the one called last goes on past its wait, the other gives way. */
  private switchRequests = 0;
  private takeover?: Takeover;
  /** Delays between a pending source's attempts: the running source's own backoff goes on beside them. */
  private readonly switchBackoff: Backoff;

  constructor(
    private createSource: () => FrameSource,
    private readonly options: SourceSupervisorOptions,
  ) {
    this.backoff = options.backoff ?? new Backoff(500, 30_000);
    this.switchBackoff = this.backoff.fresh();
    this.healthyRunMs = options.healthyRunMs ?? HEALTHY_RUN_MS;
    this.identity = options.identity;
  }

  /** The make-before-break switch waiting for its new source's first frame, if any: the running source still delivers. */
  get switchPending(): SwitchPending | undefined {
    return this.pending && { ...this.pending.status };
  }

  /**
   * How long the make-before-break switch pending has waited for its new source's first frame, 0 with none: a gauge a
   * fleet alerts on, as a twin change that never takes leaves the old camera streaming and healthy.
   */
  get switchPendingSeconds(): number {
    return this.pending ? (performance.now() - this.pending.askedAt) / 1000 : 0;
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
   * Frames from the current source, then from each one after it; ends on stop(). After a file played once has ended
   * it waits for a switch, so that its consumer reads on without starting over. Rejects for a source that fails
   * before the supervisor's first frame with failFastBeforeFirstFrame, and ends for one that ends so: start-up reads
   * either as its failure.
   */
  async *frames(): AsyncGenerator<Frame, void, undefined> {
    while (!this.stopping) {
      // A source switched away from meanwhile was stopped by switchSource: start the new one at once.
      const switches = this.switches;
      const switched = () => this.switches !== switches;
      this.framesDecodedBefore = this.framesDecoded;
      const takeover = this.takeover;
      this.takeover = undefined;
      const source = takeover?.source ?? this.createSource();
      this.source = source;
      this.sourceIdentity = this.identity;
      const watch = this.watchForStall(source);
      let failure: Error | undefined;
      try {
        // The source's own number of the frame taken last: a live source drops the frames its consumer was too slow
        // to take, and they leave a gap in the sequence, as they do downstream, so they count as skipped.
        let lastTaken = -1;
        for await (const { header, pixels } of takeover?.frames ?? source.frames()) {
          this.nextSequence += Math.max(0, header.sequence - lastTaken - 1);
          lastTaken = header.sequence;
          this.lastFrameAt = Date.now();
          const now = performance.now();
          if (this.state !== 'streaming') {
            assertSendableSize(header, source.label);
            this.nowStreaming(header, now);
          } else if (this.recoveringSince !== undefined && now - this.recoveringSince >= this.healthyRunMs) this.recovered();
          this.hadFrame = true;
          yield { ...header, sequence: this.nextSequence++, pixels };
        }
        if (switched()) {
          this.state = 'idle';
          continue;
        }
        failure = watch.stalled();
        if (this.stopping) return;
        if (this.pending) {
          await this.breakPending();
          continue;
        }
        if (!failure) {
          this.state = 'ended';
          this.options.listener?.ended?.();
          if (this.failsFast()) return;
          watch.stop();
          // Checked first: a switch or stop() may have come between the source's end and here (the listener's, even).
          if (!switched() && !this.stopping) await new Promise<void>((resolve) => (this.wake = resolve));
          if (this.stopping) return;
          this.state = 'idle';
          continue;
        }
      } catch (error) {
        if (this.stopping) return;
        if (switched()) {
          this.state = 'idle';
          continue;
        }
        failure = watch.stalled() ?? (error as Error);
        if (this.failsFast()) throw failure;
        if (this.pending) {
          await this.breakPending();
          continue;
        }
      } finally {
        // Not while waiting to retry: the source has stopped already.
        watch.stop();
      }
      await this.waitToRetry(failure);
    }
  }

  /**
   * Replaces the source without a restart of the consumer, sequence numbers counting on. Make-before-break where the
   * running source and the new one are identified and can run side by side (canRunSideBySideResolved) and the running one is
   * delivering frames: the new one is started beside it and takes over at its first frame, which is handed on (a file
   * played once is seen from its start); until then it is retried with backoff (switchFailed) and switchPending says
   * so, while the running one keeps delivering. Otherwise, or once the running one fails or ends meanwhile, it is
   * stopped first and the new one started, retried with backoff like any other (also after a file played once has
   * ended). The newest switch wins: one pending is dropped, and a switch to the source streaming now (the same
   * settings: a patch back after a mistyped one) leaves it running. `atOnce` stops the running source first whatever
   * the two are: a twin's document at start-up configures the module as its environment does, and the start-up
   * source must not go on in the place of a camera it names that is not up. Resolves once the switch is made or pending.
   */
  async switchSource(target: SwitchTarget, { atOnce = false } = {}): Promise<void> {
    const createSource = () => target.create();
    const identity = target.settings === undefined ? undefined : { description: target.description, settings: target.settings };
    const request = ++this.switchRequests;
    await this.dropPending();
    if (this.stopping || request !== this.switchRequests) return;
    const running = this.identity;
    if (this.state === 'streaming' && running && identity && sameSettings(running.settings, identity.settings)) return;
    const sideBySide = !atOnce && this.state === 'streaming' && running && identity && (await canRunSideBySideResolved(running.description, identity.description));
    // The lookup of the hosts' names took a while: a newer switch, or stop(), may have come meanwhile.
    if (this.stopping || request !== this.switchRequests) return;
    if (sideBySide && identity) {
      const pending: Pending = { create: createSource, identity, status: { since: Date.now(), failures: 0 }, askedAt: performance.now() };
      this.pending = pending;
      this.switchBackoff.reset();
      void this.startPending(pending);
      return;
    }
    this.switchTo(createSource, identity);
    await Promise.all([this.source?.stop(), this.dropTakeover()]);
  }

  /**
   * Throws the crop's VideoSourceError, naming the source, where `target` has a crop its picture does not hold (or
   * that, scaled as asked, makes frames too large to send; assertCropFitsPicture): the
   * source streaming now (the same camera, stream or file)'s picture as the decoder told its size, else the target's
   * known before it starts (a video file's, the test pattern's; assertCropFitsKnownPicture). Switched to, such a
   * source can only fail until the crop changes again, a working camera stopped for it or the switch pending for good.
   * Nothing for a camera or stream whose picture's size is not known yet (no frame yet): it fails then as it would.
   */
  assertCropFits(target: SwitchTarget): void {
    const running = this.state === 'streaming' && target.settings?.source === this.sourceIdentity?.settings.source ? this.source : undefined;
    if (!running?.pictureSize || !target.crop) return assertCropFitsKnownPicture(target);
    try {
      assertCropFitsPicture(target.crop, target.settings, running.pictureSize, running.label);
    } catch (error) {
      throw new VideoSourceError(`${(error as Error).message}; it runs on as it was`, true);
    }
  }

  /** Stops the source; frames() ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await Promise.all([this.source?.stop(), this.dropPending(), this.dropTakeover()]);
    this.state = 'stopped';
  }

  /** The source frames() starts next is this one. */
  private switchTo(createSource: () => FrameSource, identity: SourceIdentity | undefined): void {
    this.createSource = createSource;
    this.identity = identity;
    this.switches++;
    this.backoff.reset();
    this.wake?.();
  }

  /**
   * Tries the pending source until its first frame, with backoff; then it takes over: the running source is stopped,
   * and frames() reads on from the new one. Ends, its attempt stopped, once the switch is no longer pending.
   */
  private async startPending(pending: Pending): Promise<void> {
    while (this.pending === pending) {
      const source = pending.create();
      pending.source = source;
      const frames = source.frames();
      const watch = this.watchForStall(source);
      let failure: Error;
      try {
        const first = await frames.next();
        if (this.pending !== pending) {
          await source.stop();
          return;
        }
        if (!first.done) {
          this.pending = undefined;
          // Copied: a frame cut into a source's ring of buffers is not kept past the next few frames.
          const firstFrame = { header: first.value.header, pixels: Buffer.from(first.value.pixels) };
          this.takeover = { source, frames: readingOn(firstFrame, frames) };
          this.switchTo(pending.create, pending.identity);
          await this.source?.stop();
          return;
        }
        failure = watch.stalled() ?? new Error(`${source.label} ended before its first frame`);
      } catch (error) {
        if (this.pending !== pending) return;
        failure = watch.stalled() ?? (error as Error);
      } finally {
        watch.stop();
      }
      const retryInMs = failure instanceof VideoSourceError && failure.awaitsSettings ? this.switchBackoff.longest() : this.switchBackoff.next();
      pending.status = { ...pending.status, failures: pending.status.failures + 1, error: failure.message };
      this.options.listener?.switchFailed?.(failure, retryInMs, pending.status.failures);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryInMs);
        pending.cancelWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The pending switch is superseded, or the supervisor stops: its attempt is stopped and forgotten. */
  private async dropPending(): Promise<void> {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    pending.cancelWait?.();
    await pending.source?.stop();
  }

  /** A pending source's first frame not yet read on from by frames(): superseded by a switch, or the supervisor stops. */
  private async dropTakeover(): Promise<void> {
    const takeover = this.takeover;
    this.takeover = undefined;
    await takeover?.source.stop();
  }

  /**
   * The running source failed or ended with a switch pending: there is nothing left to keep delivering, so the switch
   * is made break-before-make, its source started afresh (with the running source's backoff) by frames().
   */
  private async breakPending(): Promise<void> {
    const { create, identity } = this.pending as Pending;
    // Not streaming while the pending attempt stops: a switch meanwhile is made at once, not made pending.
    this.state = 'idle';
    await this.dropPending();
    this.switchTo(create, identity);
  }

  /** Whether the source's failure or end is start-up's to report (see failFastBeforeFirstFrame), not a retry's. */
  private failsFast(): boolean {
    return !this.hadFrame && this.switches === 0 && this.options.failFastBeforeFirstFrame;
  }

  /**
   * Stops a live source other than a file (see SourceSupervisorOptions.stallTimeoutMs) whose decoder has delivered no
   * frame for stallTimeoutMs; `stalled` then says why, and frames() retries it like a failure. A pause of the whole
   * process (SIGSTOP) is not counted as silence (SilenceClock).
   */
  private watchForStall(source: FrameSource): { stalled(): Error | undefined; stop(): void } {
    const stallMs = this.options.stallTimeoutMs?.();
    if (stallMs === undefined || !source.live || source instanceof VideoFileSource) return { stalled: () => undefined, stop: () => undefined };
    // Read with the limit: a twin's new rate, made pending meanwhile, is not the running source's.
    const setting = this.options.stallSetting?.() ?? 'CAPTURE_STREAM_TIMEOUT';
    let stall: Error | undefined;
    const tickMs = Math.min(1000, stallMs / 4);
    const silence = new SilenceClock(tickMs, performance.now(), source.stats.framesDecoded);
    const timer = setInterval(() => {
      const { framesDecoded } = source.stats;
      const first = framesDecoded === 0;
      const limitMs = first ? stallMs + FIRST_FRAME_GRACE_MS : stallMs;
      if (silence.tick(performance.now(), framesDecoded) < limitMs) return;
      clearInterval(timer);
      const limit = first ? `${setting}; a first frame gets ${FIRST_FRAME_GRACE_MS / 1000} s more` : setting;
      stall = new VideoSourceError(`${source.label}: no frame for ${(limitMs / 1000).toFixed(1)} s (${limit})`);
      void source.stop();
    }, tickMs);
    timer.unref();
    return { stalled: () => stall, stop: () => clearInterval(timer) };
  }

  private nowStreaming({ width, height, colorMatrix, fullRange }: FrameHeader, now: number): void {
    this.state = 'streaming';
    this.recoveringSince = now;
    const downSeconds = this.failedAt === undefined ? undefined : (now - this.failedAt) / 1000;
    this.failedAt = undefined;
    this.options.listener?.streaming?.({ width, height, colorMatrix, fullRange, downSeconds });
  }

  /** Frames have kept coming for healthyRunMs: counted by frames delivered, as a source stalled after one frame is not up. */
  private recovered(): void {
    this.recoveringSince = undefined;
    this.backoff.reset();
  }

  private async waitToRetry(error: Error): Promise<void> {
    this.state = 'retrying';
    this.failedAt ??= performance.now();
    const delayMs = error instanceof VideoSourceError && error.awaitsSettings ? this.backoff.longest() : this.backoff.next();
    this.options.listener?.failed?.(error, delayMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The frames of a source whose first was taken already: that one, then the rest; leaving early stops the source. */
async function* readingOn(first: CapturedFrame, rest: AsyncGenerator<CapturedFrame, void, undefined>): AsyncGenerator<CapturedFrame, void, undefined> {
  try {
    yield first;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}
