import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { observedSupervision, SourceSupervisor, type PreparedSource, type SourceState, type SwitchPending } from '@iev/capture-sources';
import { FRAMES_TOPIC } from '@iev/frame-protocol';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { ClientZmqOnDemand } from '@iev/zmq-transport';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { CaptureMetrics } from './capture.metrics';
import { FAIL_FAST, FRAMES_CLIENT, SOURCE, STALL_SETTING, STALL_TIMEOUT } from './tokens';

/**
 * Hands frames from the supervised source to the frames transport, which gives each consumer the newest when it
 * asks. A source that is not live (a file read as fast as it is taken) is read only once a consumer waits for a
 * frame, so decoding follows demand; a live one runs at its own pace and every frame is offered, the transport
 * keeping the newest for whoever asks next.
 */
@Injectable()
export class CaptureService implements OnApplicationShutdown {
  private readonly supervisor: SourceSupervisor;
  private pump?: Promise<void>;
  private readonly stopped: Promise<void>;
  private signalStop = () => undefined as void;

  constructor(
    @Inject(SOURCE) source: PreparedSource,
    @Inject(FAIL_FAST) private readonly failFastBeforeFirstFrame: boolean,
    @Inject(FRAMES_CLIENT) private readonly framesClient: ClientZmqOnDemand,
    private readonly metrics: CaptureMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(STALL_TIMEOUT) stallTimeoutMs?: () => number,
    @Optional() @Inject(STALL_SETTING) stallSetting?: () => string,
  ) {
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
    this.supervisor = new SourceSupervisor(source.create, {
      identity: source,
      failFastBeforeFirstFrame,
      stallTimeoutMs,
      stallSetting,
      listener: observedSupervision(
        {
          setUp: (up) => metrics.sourceUp.set(up),
          countRestart: () => metrics.sourceRestarts.inc(),
          addDownSeconds: (seconds) => metrics.sourceDownSeconds.inc(seconds),
          countSwitchFailure: () => metrics.sourceSwitchFailures.inc(),
        },
        logger,
      ),
    });
  }

  get state(): SourceState {
    return this.supervisor.state;
  }

  get framesDecoded(): number {
    return this.supervisor.framesDecoded;
  }

  get lastFrameAt(): number | undefined {
    return this.supervisor.lastFrameAt;
  }

  /** A switch waiting for its new source's first frame while the running one delivers; see SourceSupervisor.switchSource. */
  get switchPending(): SwitchPending | undefined {
    return this.supervisor.switchPending;
  }

  get switchPendingSeconds(): number {
    return this.supervisor.switchPendingSeconds;
  }

  /** Resolves once the first frame is handed on (or, for retried sources, once the pump is running). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pump = this.run(resolve, reject);
      if (!this.failFastBeforeFirstFrame) resolve();
    });
  }

  /** Throws where the target would crop the running source outside its picture; see SourceSupervisor.assertCropFits. */
  assertCropFits(source: PreparedSource): void {
    this.supervisor.assertCropFits(source);
  }

  /** Replaces the source live (a twin change), make-before-break where it can; see SourceSupervisor.switchSource. */
  switchSource(source: PreparedSource, options?: { atOnce?: boolean }): Promise<void> {
    return this.supervisor.switchSource(source, options);
  }

  async onApplicationShutdown(): Promise<void> {
    this.signalStop();
    await this.supervisor.stop();
    await this.pump;
    this.metrics.sourceUp.set(0);
  }

  /** Settles `started` with the first frame handed on, or with why there is none (a source that failed fast, or ended empty). */
  private async run(firstFrame: () => void, failedToStart: (error: Error) => void): Promise<void> {
    let handedOn = false;
    try {
      for await (const frame of this.supervisor.frames()) {
        try {
          await lastValueFrom(this.framesClient.emit(FRAMES_TOPIC, frame), { defaultValue: undefined });
        } catch (error) {
          // One frame that cannot be sent is lost, not the pump: the next one may go.
          this.logger.error({ err: error, sequence: frame.sequence }, `frame not published: ${(error as Error).message}`);
          continue;
        }
        this.metrics.framesPublished.inc();
        this.metrics.rate.mark();
        handedOn = true;
        firstFrame();
        if (!this.supervisor.live) await Promise.race([this.framesClient.whenWanted(FRAMES_TOPIC), this.stopped]);
      }
      if (!handedOn && this.supervisor.state === 'ended') failedToStart(new Error('the source ended before its first frame'));
    } catch (error) {
      // Once start() has settled, nothing else would say why the frames stopped.
      if (handedOn || !this.failFastBeforeFirstFrame) this.logger.error({ err: error }, `source stopped: ${(error as Error).message}`);
      failedToStart(error as Error);
    }
  }
}
