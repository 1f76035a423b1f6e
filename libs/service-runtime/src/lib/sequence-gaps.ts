/** Counts frames a consumer never saw, per source, from gaps in their sequence numbers. */
export class SequenceGaps {
  private readonly lastSequence = new Map<string, number>();

  /** Returns how many frames of this source were skipped since the previous one seen. */
  observe(sourceId: string, sequence: number): number {
    const last = this.lastSequence.get(sourceId);
    this.lastSequence.set(sourceId, sequence);
    // A sequence that goes back means the source restarted: nothing was skipped.
    return last === undefined || sequence <= last ? 0 : sequence - last - 1;
  }
}
