/**
 * A bounded FIFO between the socket's receive loop and one pattern's dispatch loop. When full, the oldest
 * message makes room for the new one, so capacity 1 means "always the newest" (live video) and nothing
 * ever queues without bound.
 */
export class DropOldestMailbox<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private wakeConsumer?: () => void;

  /** `whenEmpty` runs each time the consumer is about to wait for a message (on-demand delivery asks for one then). */
  constructor(
    private readonly capacity: number,
    private readonly whenEmpty?: () => void,
  ) {}

  /** Adds a message; returns how many messages were dropped for it (0 or 1) so the caller can count them. */
  put(item: T): number {
    if (this.closed) return 1;
    this.items.push(item);
    const dropped = this.items.length > this.capacity ? this.items.splice(0, 1).length : 0;
    this.wake();
    return dropped;
  }

  /** Ends the iteration; returns how many waiting messages were discarded. */
  close(): number {
    this.closed = true;
    const discarded = this.items.splice(0).length;
    this.wake();
    return discarded;
  }

  /** Yields messages one at a time; the consumer's await between them is what lets newer ones replace older. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    while (!this.closed) {
      if (this.items.length > 0) {
        yield this.items.shift() as T;
      } else {
        this.whenEmpty?.();
        await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
      }
    }
  }

  private wake(): void {
    this.wakeConsumer?.();
    this.wakeConsumer = undefined;
  }
}
