import { Backoff, withTimeout } from '@iev/service-runtime';

export interface OutboundQueueOptions<T> {
  /**
   * Most items held while the upstream is unreachable; beyond it the oldest are dropped and counted. The item being
   * sent, or waiting to be resent after a send that may have reached the upstream, is not dropped (it may be there
   * already) until such sends have failed three times, so one more is held meanwhile.
   */
  capacity: number;
  /**
   * Sends one item; a rejection leaves it at the head of the queue to be retried with backoff.
   * `droppedBefore` is how many items were dropped since the last successful send, so the receiver can be told.
   */
  send(item: T, droppedBefore: number): Promise<void>;
  /**
   * Whether a failed send certainly never left (there was no connection to send it on). Any other failure (the
   * connection lost before the acknowledgement came back, a timeout) may have left the item stored upstream: it keeps
   * its place and is resent as it was, with the same droppedBefore. Unset: every failure may have.
   */
  sendNeverLeft?(error: unknown): boolean;
  /** A send that takes longer than this counts as failed (a half-open connection never answers). */
  sendTimeoutMs?: number;
  backoff?: Backoff;
  onSendError?(error: unknown, attempt: number): void;
  onDrop?(item: T): void;
}

export interface OutboundQueueStats {
  queued: number;
  sent: number;
  dropped: number;
  failedAttempts: number;
  /** Items sent again after an attempt that may have reached the upstream: each may be there twice (at-least-once). */
  resent: number;
}

/** Attempts of one item that may have reached the upstream, after which it may be dropped like the others (a message the upstream refuses every time). */
const MAX_UNCERTAIN_FAILURES = 3;

/**
 * A bounded, in-order queue with one send in flight and retry with capped exponential backoff: memory stays
 * bounded however long the upstream is away, and what had to be dropped is counted, never silently lost.
 */
export class OutboundQueue<T> {
  private readonly items: T[] = [];
  private readonly backoff: Backoff;
  private sent = 0;
  private dropped = 0;
  private droppedSinceSent = 0;
  private failedAttempts = 0;
  private resent = 0;
  /** The head's attempts that may have reached the upstream failed: the drop count the first carried, and how many. */
  private headMayHaveArrived: { droppedBefore: number; failures: number } | undefined;
  private running = false;
  /** The head is being sent. */
  private sending = false;
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: OutboundQueueOptions<T>) {
    this.backoff = options.backoff ?? new Backoff(500, 30_000);
  }

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.dropBeyondCapacity();
    if (!this.running) void this.run();
  }

  /** Retries now instead of waiting out the backoff: call when the upstream is known to be back. */
  wake(): void {
    this.backoff.reset();
    this.wakeUp?.();
  }

  stats(): OutboundQueueStats {
    return { queued: this.items.length, sent: this.sent, dropped: this.dropped, failedAttempts: this.failedAttempts, resent: this.resent };
  }

  /** Resolves when everything queued has been sent, or after timeoutMs; returns whether the queue emptied. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.items.length === 0) return true;
    const emptied = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    return withTimeout(emptied, timeoutMs, 'the upstream queue', () => false);
  }

  /** Stops sending; whatever is still queued is reported by stats().queued. */
  close(): void {
    this.closed = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    let attempt = 0;
    while (this.items.length > 0 && !this.closed) {
      const item = this.items[0];
      // A resend is the same message: the upstream may hold the first copy already.
      const droppedBefore = this.headMayHaveArrived?.droppedBefore ?? this.droppedSinceSent;
      this.sending = true;
      try {
        await this.sendWithTimeout(item, droppedBefore);
        this.sending = false;
        this.items.shift();
        this.sent += 1;
        if (this.headMayHaveArrived) this.resent += 1;
        this.headMayHaveArrived = undefined;
        // Drops during the send are reported with the next item.
        this.droppedSinceSent -= droppedBefore;
        attempt = 0;
        this.backoff.reset();
      } catch (error) {
        // An item that never left waits like any other until it is retried: beyond the capacity it goes first.
        if (!this.options.sendNeverLeft?.(error)) {
          const failures = (this.headMayHaveArrived?.failures ?? 0) + 1;
          this.headMayHaveArrived = { droppedBefore: this.headMayHaveArrived?.droppedBefore ?? droppedBefore, failures };
        }
        this.sending = false;
        this.dropBeyondCapacity();
        attempt += 1;
        this.failedAttempts += 1;
        this.options.onSendError?.(error, attempt);
        await this.sleep(this.backoff.next());
      }
    }
    this.running = false;
    if (this.items.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private dropBeyondCapacity(): void {
    // Never the item being sent or one that may have arrived: it would count as dropped though the upstream has it.
    // One that failed so every time it was sent is no lost acknowledgement: it may go, lest it hold the queue for good.
    const mayHaveArrived = this.headMayHaveArrived !== undefined && this.headMayHaveArrived.failures < MAX_UNCERTAIN_FAILURES;
    const first = this.sending || mayHaveArrived ? 1 : 0;
    while (this.items.length - first > this.options.capacity) {
      const [oldest] = this.items.splice(first, 1);
      if (first === 0) this.headMayHaveArrived = undefined;
      this.dropped += 1;
      this.droppedSinceSent += 1;
      this.options.onDrop?.(oldest);
    }
  }

  private async sendWithTimeout(item: T, droppedBefore: number): Promise<void> {
    const timeoutMs = this.options.sendTimeoutMs ?? 15_000;
    await withTimeout(this.options.send(item, droppedBefore), timeoutMs, 'an upstream send');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
