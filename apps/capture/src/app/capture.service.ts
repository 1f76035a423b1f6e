import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SourceSupervisor, type FrameSource, type SourceState } from '@iev/capture-sources';
import { FRAMES_TOPIC } from '@iev/frame-protocol';
import { MODULE_LOGGER } from '@iev/service-runtime';
import type { ClientZmqOnDemand } from '@iev/zmq-transport';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { CaptureMetrics } from './capture.metrics';
import { FAIL_FAST, FRAMES_CLIENT, SOURCE_FACTORY } from './tokens';

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
    @Inject(SOURCE_FACTORY) createSource: () => FrameSource,
    @Inject(FAIL_FAST) private readonly failFastBeforeFirstFrame: boolean,
    @Inject(FRAMES_CLIENT) private readonly framesClient: ClientZmqOnDemand,
    private readonly metrics: CaptureMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
  ) {
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
    this.supervisor = new SourceSupervisor(createSource, {
      failFastBeforeFirstFrame,
      listener: {
        streaming: ({ width, height, downSeconds }) => {
          metrics.sourceUp.set(1);
          if (downSeconds !== undefined) metrics.sourceDownSeconds.inc(downSeconds);
          logger.info({ width, height, downSeconds }, 'source streaming');
        },
        failed: (error, retryInMs) => {
          metrics.sourceUp.set(0);
          metrics.sourceRestarts.inc();
          logger.error({ err: error, retryInMs }, `source failed: ${error.message}; retrying`);
        },
        ended: () => {
          metrics.sourceUp.set(0);
          logger.info('source ended (CAPTURE_LOOP=false): no more frames');
        },
      },
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

  /** Resolves once the first frame is handed on (or, for retried sources, once the pump is running). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pump = this.run(resolve, reject);
      if (!this.failFastBeforeFirstFrame) resolve();
    });
  }

  /** Replaces the source live (a twin change); see SourceSupervisor.switchSource. */
  async switchSource(createSource: () => FrameSource): Promise<void> {
    const ended = this.supervisor.state === 'ended';
    await this.supervisor.switchSource(createSource);
    if (ended) this.pump = this.run(() => undefined, () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.signalStop();
    await this.supervisor.stop();
    await this.pump;
    this.metrics.sourceUp.set(0);
  }

  private async run(firstFrame: () => void, failedToStart: (error: Error) => void): Promise<void> {
    try {
      for await (const frame of this.supervisor.frames()) {
        await lastValueFrom(this.framesClient.emit(FRAMES_TOPIC, frame), { defaultValue: undefined });
        this.metrics.framesPublished.inc();
        this.metrics.rate.mark();
        firstFrame();
        if (!this.supervisor.live) await Promise.race([this.framesClient.whenWanted(FRAMES_TOPIC), this.stopped]);
      }
    } catch (error) {
      failedToStart(error as Error);
    }
  }
}
