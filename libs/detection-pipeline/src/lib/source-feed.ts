import type { ChainedFrame, InOrderDetections } from './in-order-detections';
import { SourceScheduler, type OfferOutcome, type SchedulableFrame, type SourceSchedulerOptions } from './source-scheduler';

export interface SourceFeedOptions<F extends ChainedFrame & SchedulableFrame> {
  chain: Pick<InOrderDetections<F>, 'pushBatch' | 'drain'>;
  scheduler?: SourceSchedulerOptions<F>;
  /** The most frames of one size that go into the model together (the detector's batch; read at each turn). */
  maxBatch?(): number;
  /** Each frame as it goes into the model (e.g. to count the frames of its source it skipped). */
  taken?(frame: F): void;
}

/**
 * Frames of several live sources into one detection chain, in the SourceScheduler's fair turns: each time the
 * chain can take another frame, the next source in line gets the model. A source's offer settles (so it is asked
 * for its next frame) only once the chain can take another frame after its own, not when its frame goes in: with
 * one source that is exactly when the model is free, so its next frame is the newest then, not one fetched ahead.
 * With `maxBatch` above 1, a turn takes up to that many waiting frames of one size, from as many sources, into the
 * model together.
 */
export class SourceFeed<F extends ChainedFrame & SchedulableFrame> {
  private readonly scheduler: SourceScheduler<F>;
  private readonly feeding: Promise<void>;
  /** Frames offered, until the chain can take another frame after them (or they leave the line otherwise). */
  private readonly pushed = new Map<F, () => void>();

  constructor(private readonly options: SourceFeedOptions<F>) {
    this.scheduler = new SourceScheduler(options.scheduler);
    this.feeding = this.feed();
  }

  /** Frames waiting for their turn, one at most per source. */
  get waiting(): number {
    return this.scheduler.waiting;
  }

  /** Puts the source's newest frame in line; settles when it leaves its place, when the source should send the next (see OfferOutcome). */
  async offer(frame: F): Promise<OfferOutcome> {
    const pushed = new Promise<void>((resolve) => this.pushed.set(frame, resolve));
    const outcome = await this.scheduler.offer(frame);
    if (outcome === 'taken') await pushed;
    this.pushed.delete(frame);
    return outcome;
  }

  /** Takes no more frames and resolves once those in the chain are published (shutdown). */
  async close(): Promise<void> {
    this.scheduler.close();
    await this.feeding;
    for (const release of this.pushed.values()) release();
    await this.options.chain.drain();
  }

  private async feed(): Promise<void> {
    for (;;) {
      const frames = await this.scheduler.take(this.options.maxBatch?.() ?? 1);
      if (frames.length === 0) return;
      for (const frame of frames) this.options.taken?.(frame);
      // Resolves once the model can take more: the next turn is decided then, among the newest frames.
      await this.options.chain.pushBatch(frames);
      for (const frame of frames) this.pushed.get(frame)?.();
    }
  }
}
