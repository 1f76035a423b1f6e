/**
 * The largest jump forward counted as frames skipped: about 55 minutes of a 30 fps camera. A consumer gone longer
 * than that was away, not skipping; a larger jump is a source that restarted with other numbers or a corrupt
 * sequence (10 then 2^40 would add a trillion frames to a counter that never comes down).
 */
export const MAX_COUNTED_GAP = 100_000;

/** Counts frames a consumer never saw, per source, from gaps in their sequence numbers. */
export class SequenceGaps {
  private readonly lastSequence = new Map<string, number>();

  /**
   * Returns how many frames of this source were skipped since the previous one seen. A sequence that goes back, or
   * jumps ahead by more than MAX_COUNTED_GAP, is a discontinuity (the source restarted): nothing counts as skipped,
   * and gaps are counted from it on.
   */
  observe(sourceId: string, sequence: number): number {
    const last = this.lastSequence.get(sourceId);
    this.lastSequence.set(sourceId, sequence);
    if (last === undefined) return 0;
    const skipped = sequence - last - 1;
    return skipped >= 0 && skipped <= MAX_COUNTED_GAP ? skipped : 0;
  }

  /** A source gone for good: one of its id later is new, its first frame no gap. */
  forget(sourceId: string): void {
    this.lastSequence.delete(sourceId);
  }
}
