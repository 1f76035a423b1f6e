import type { ChainedFrame, InOrderDetections } from './in-order-detections';
import { SourceScheduler, type OfferOutcome, type SchedulableFrame, type SourceSchedulerOptions } from './source-scheduler';

export interface SourceFeedOptions<F extends ChainedFrame & SchedulableFrame> {
  chain: Pick<InOrderDetections<F>, 'push' | 'drain'>;
  scheduler?: SourceSchedulerOptions;
  /** Each frame as it goes into the model (e.g. to count the frames of its source it skipped). */
  taken?(frame: F): void;
}

/**
 * Frames of several live sources into one detection chain, in the SourceScheduler's fair turns: each time the
 * chain can take another frame, the next source in line gets the model. A source's offer settles (so it is asked
 * for its next frame) only once the chain can take another frame after its own, not when its frame goes in: with
 * one source that is exactly when the model is free, so its next frame is the newest then, not one fetched ahead.
 * One frame at a time for now: the scheduler hands out same-size batches (take(maxBatch)) for a detector that runs
 * them together.
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
      const [frame] = await this.scheduler.take(1);
      if (!frame) return;
      this.options.taken?.(frame);
      // Resolves once the model can take another frame: the next turn is decided then, among the newest frames.
      await this.options.chain.push(frame);
      this.pushed.get(frame)?.();
    }
  }
}
