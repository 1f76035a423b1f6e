/** What the scheduler needs of a frame: its source, and its size (only frames of one size go through the model together). */
export interface SchedulableFrame {
  sourceId: string;
  width: number;
  height: number;
}

/**
 * How a frame left its place: handed to the model, replaced by a newer one of its source, still waiting but old
 * enough that a newer one should be asked for (it keeps its place until that arrives or its turn comes), or the
 * scheduler closed.
 */
export type OfferOutcome = 'taken' | 'replaced' | 'refresh' | 'closed';

export interface SourceSchedulerOptions<F = unknown> {
  /**
   * A frame that has waited this long settles its offer with 'refresh', so its source sends a newer one that
   * replaces it: what reaches the model is never much older than this plus one delivery (default 250 ms).
   */
  refreshAfterMs?: number;
  /** Told of each frame that leaves without going to the model: replaced by its source's newer one, or still waiting at close. */
  discarded?(frame: F): void;
}

interface Slot<F> {
  frame: F;
  settle(outcome: OfferOutcome): void;
  refresh: NodeJS.Timeout;
}

/**
 * Fair turns at one model for several live sources. Each source holds at most its newest frame; sources with a
 * frame waiting take turns in the order their frames arrived, and a source served goes to the back of the line
 * when its next frame comes. So every waiting source is served within one round (as many turns as sources), and
 * a fast camera cannot crowd out a slow one: it never has more than one frame in the line.
 *
 * A source's offer settles when its frame leaves its place, so the caller knows when to ask that source for its next
 * frame (SourceFeed: once the model can take another). One consumer takes frames (see take).
 */
export class SourceScheduler<F extends SchedulableFrame> {
  private readonly slots = new Map<string, Slot<F>>();
  /** Sources with a frame waiting, in the order they get their turn. */
  private line: string[] = [];
  private wakeTaker?: () => void;
  private closed = false;
  private readonly refreshAfterMs: number;

  constructor(private readonly options: SourceSchedulerOptions<F> = {}) {
    this.refreshAfterMs = options.refreshAfterMs ?? 250;
  }

  /** Frames waiting for their turn, one at most per source. */
  get waiting(): number {
    return this.slots.size;
  }

  /** Puts the frame in its source's place, replacing an older one there; settles when it leaves (see OfferOutcome). */
  offer(frame: F): Promise<OfferOutcome> {
    if (this.closed) return Promise.resolve('closed');
    const held = this.slots.get(frame.sourceId);
    if (held) {
      this.leave(held, 'replaced');
      this.options.discarded?.(held.frame);
    } else {
      this.line.push(frame.sourceId);
    }
    return new Promise<OfferOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: OfferOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const refresh = setTimeout(() => settle('refresh'), this.refreshAfterMs);
      this.slots.set(frame.sourceId, { frame, settle, refresh });
      this.wakeTaker?.();
    });
  }

  /**
   * Waits for a frame and takes up to `maxBatch` waiting frames of one size, each from another source: the first in
   * line, then the next ones in line of its size (those of other sizes keep their places). Resolves empty once closed.
   */
  async take(maxBatch = 1): Promise<F[]> {
    while (this.line.length === 0 && !this.closed) await new Promise<void>((resolve) => (this.wakeTaker = resolve));
    this.wakeTaker = undefined;
    const batch: F[] = [];
    const stillWaiting: string[] = [];
    for (const sourceId of this.line) {
      const slot = this.slots.get(sourceId) as Slot<F>;
      const first = batch[0] ?? slot.frame;
      if (batch.length < maxBatch && slot.frame.width === first.width && slot.frame.height === first.height) {
        batch.push(slot.frame);
        this.slots.delete(sourceId);
        this.leave(slot, 'taken');
      } else {
        stillWaiting.push(sourceId);
      }
    }
    this.line = stillWaiting;
    return batch;
  }

  /** Settles every waiting offer with 'closed' and a waiting take with nothing. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots.values()) {
      this.leave(slot, 'closed');
      this.options.discarded?.(slot.frame);
    }
    this.slots.clear();
    this.line = [];
    this.wakeTaker?.();
  }

  private leave(slot: Slot<F>, outcome: OfferOutcome): void {
    clearTimeout(slot.refresh);
    slot.settle(outcome);
  }
}
