import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { FrameSource } from '@iev/capture-sources';
import { FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { Backoff, MODULE_LOGGER } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import { CaptureMetrics } from './capture.metrics';
import { FAIL_FAST, FRAMES_CLIENT, SOURCE_FACTORY } from './tokens';

export type SourceState = 'idle' | 'streaming' | 'retrying' | 'ended' | 'stopped';

/**
 * Pumps frames from the source to the frames socket; a failed source is restarted with capped backoff. With
 * failFastBeforeFirstFrame (files), a source that fails before its first frame fails start() instead: a missing
 * or unreadable file is a configuration error, while a camera or stream may simply not be up yet.
 */
@Injectable()
export class CaptureService implements OnApplicationShutdown {
  private source?: FrameSource;
  private pump?: Promise<void>;
  private stopping = false;
  private cancelRetryWait?: () => void;
  private readonly backoff = new Backoff(500, 30_000);
  /** Numbers frames across source restarts (a new source starts again at 0); an outage shows in the down-time metric. */
  private nextSequence = 0;
  state: SourceState = 'idle';
  lastFrameAt?: number;
  /** When the current outage began (the source failed), until a frame is published again. */
  private failedAt?: number;

  constructor(
    @Inject(SOURCE_FACTORY) private createSource: () => FrameSource,
    @Inject(FAIL_FAST) private readonly failFastBeforeFirstFrame: boolean,
    @Inject(FRAMES_CLIENT) private readonly framesClient: ClientProxy,
    private readonly metrics: CaptureMetrics,
    @Inject(MODULE_LOGGER) private readonly logger: Logger,
  ) {}

  /** Resolves once the first frame is published (or, for retried sources, once the pump is running). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pump = this.run(resolve, reject);
      if (!this.failFastBeforeFirstFrame) resolve();
    });
  }

  /**
   * Replaces the source without restarting the module: the current one is stopped and the new one started,
   * sequence numbers counting on. A new source that fails is retried with backoff like any other.
   */
  async switchSource(createSource: () => FrameSource): Promise<void> {
    this.createSource = createSource;
    this.cancelRetryWait?.();
    await this.source?.stop();
    if (this.state === 'ended') this.pump = this.run(() => undefined, () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.cancelRetryWait?.();
    await this.source?.stop();
    await this.pump;
    this.state = 'stopped';
    this.metrics.sourceUp.set(0);
  }

  private async run(firstFrame: () => void, failedToStart: (error: Error) => void): Promise<void> {
    let started = false;
    while (!this.stopping) {
      // A source whose factory has been replaced meanwhile was stopped by switchSource: start the new one at once.
      const createSource = this.createSource;
      const switched = () => this.createSource !== createSource;
      this.source = createSource();
      try {
        for await (const { header, pixels } of this.source.frames()) {
          const frame: Frame = { ...header, sequence: this.nextSequence++, pixels };
          await lastValueFrom(this.framesClient.emit(FRAMES_TOPIC, frame), { defaultValue: undefined });
          this.metrics.framesPublished.inc();
          this.metrics.rate.mark();
          this.lastFrameAt = Date.now();
          if (this.state !== 'streaming') {
            this.state = 'streaming';
            this.metrics.sourceUp.set(1);
            this.backoff.reset();
            const downSeconds = this.failedAt === undefined ? undefined : (Date.now() - this.failedAt) / 1000;
            if (downSeconds !== undefined) this.metrics.sourceDownSeconds.inc(downSeconds);
            this.failedAt = undefined;
            this.logger.info({ width: header.width, height: header.height, downSeconds }, 'source streaming');
          }
          if (!started) {
            started = true;
            firstFrame();
          }
        }
        if (switched()) continue;
        if (!this.stopping) {
          this.state = 'ended';
          this.metrics.sourceUp.set(0);
          this.logger.info('source ended (CAPTURE_LOOP=false): no more frames');
        }
        return;
      } catch (error) {
        if (this.stopping) return;
        if (switched()) {
          this.backoff.reset();
          continue;
        }
        if (!started && this.failFastBeforeFirstFrame) return failedToStart(error as Error);
        this.state = 'retrying';
        this.failedAt ??= Date.now();
        this.metrics.sourceUp.set(0);
        this.metrics.sourceRestarts.inc();
        const delayMs = this.backoff.next();
        this.logger.error({ err: error, retryInMs: delayMs }, `source failed: ${(error as Error).message}; retrying`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.cancelRetryWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
