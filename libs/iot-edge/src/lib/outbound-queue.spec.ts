import { Backoff } from '@iev/service-runtime';
import { waitUntil } from '@iev/testing';
import { OutboundQueue } from './outbound-queue';

const fastBackoff = () => new Backoff(5, 20, 0);

/** No connection to send on: the item never left. */
class UpstreamDown extends Error {}

describe('OutboundQueue', () => {
  it('sends in order, one at a time', async () => {
    const sent: number[] = [];
    let inFlight = 0;
    const queue = new OutboundQueue<number>({
      capacity: 10,
      backoff: fastBackoff(),
      send: async (item) => {
        inFlight += 1;
        expect(inFlight).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 2));
        sent.push(item);
        inFlight -= 1;
      },
    });
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(await queue.flush(2000)).toBe(true);
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    expect(queue.stats()).toEqual({ queued: 0, sent: 5, dropped: 0, failedAttempts: 0, resent: 0 });
  });

  it('retries while the upstream is down, drops the oldest beyond capacity, and reports the drops with the next send', async () => {
    let up = false;
    const delivered: Array<{ item: number; droppedBefore: number }> = [];
    const dropped: number[] = [];
    const queue = new OutboundQueue<number>({
      capacity: 3,
      backoff: fastBackoff(),
      sendNeverLeft: (error) => error instanceof UpstreamDown,
      send: async (item, droppedBefore) => {
        if (!up) throw new UpstreamDown();
        delivered.push({ item, droppedBefore });
      },
      onDrop: (item) => dropped.push(item),
    });
    for (let i = 0; i < 7; i++) queue.push(i);
    await waitUntil(() => queue.stats().failedAttempts > 1, () => `a retry (failed attempts: ${queue.stats().failedAttempts})`);
    expect(queue.stats().queued).toBe(3);
    up = true;
    queue.wake();
    expect(await queue.flush(2000)).toBe(true);
    // 1..3 were dropped while 0 was on its way, then 0 when its send failed; 4..6 kept.
    expect(dropped).toEqual([1, 2, 3, 0]);
    expect(delivered).toEqual([
      { item: 4, droppedBefore: 4 },
      { item: 5, droppedBefore: 0 },
      { item: 6, droppedBefore: 0 },
    ]);
    expect(queue.stats()).toMatchObject({ sent: 3, dropped: 4, queued: 0 });
  });

  describe('the item being sent', () => {
    /** A queue of 2 whose sends wait until the test settles them, and what it delivered (item, droppedBefore). */
    function heldSends() {
      const pending: Array<{ deliver: () => void; resolve: () => void; reject: (error: Error) => void }> = [];
      const delivered: Array<[number, number]> = [];
      let succeedAll = false;
      const queue = new OutboundQueue<number>({
        capacity: 2,
        backoff: fastBackoff(),
        sendNeverLeft: (error) => error instanceof UpstreamDown,
        send: (item, droppedBefore) =>
          new Promise<void>((resolve, reject) => {
            const send = { deliver: () => delivered.push([item, droppedBefore]), resolve, reject };
            if (!succeedAll) return pending.push(send);
            send.deliver();
            resolve();
          }),
      });
      /** `fail`: no connection, the item never left; `lose-ack`: the connection dropped before the acknowledgement. */
      const settle = async (outcome: 'succeed' | 'fail' | 'lose-ack') => {
        await waitUntil(() => pending.length > 0, 'a send in flight');
        const send = pending.shift();
        if (outcome !== 'fail') send?.deliver();
        if (outcome === 'succeed') send?.resolve();
        else if (outcome === 'fail') send?.reject(new UpstreamDown());
        else send?.reject(new Error('connection lost before the acknowledgement'));
      };
      /** Every send from now on succeeds, however many are left. */
      const succeedFromNowOn = () => {
        succeedAll = true;
        for (const send of pending.splice(0)) {
          send.deliver();
          send.resolve();
        }
      };
      return { queue, delivered, settle, succeedFromNowOn };
    }

    it('is not dropped when the queue overflows while it is on its way', async () => {
      const { queue, delivered, settle } = heldSends();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      for (let i = 0; i < 3; i++) await settle('succeed');
      expect(await queue.flush(2000)).toBe(true);
      expect(delivered).toEqual([[1, 0], [2, 0], [3, 0]]);
      expect(queue.stats()).toEqual({ queued: 0, sent: 3, dropped: 0, failedAttempts: 0, resent: 0 });
    });

    it('waits like the others once its send failed without leaving, and is the first to go beyond the capacity', async () => {
      const { queue, delivered, settle } = heldSends();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      await settle('fail');
      for (let i = 0; i < 2; i++) await settle('succeed');
      expect(await queue.flush(2000)).toBe(true);
      expect(delivered).toEqual([[2, 1], [3, 0]]);
      expect(queue.stats()).toEqual({ queued: 0, sent: 2, dropped: 1, failedAttempts: 1, resent: 0 });
    });

    it('is kept and resent as it was when its acknowledgement was lost, counted as resent, not dropped', async () => {
      const { queue, delivered, settle, succeedFromNowOn } = heldSends();
      queue.push(1);
      queue.push(2);
      queue.push(3);
      queue.push(4); // 2 dropped while 1 is on its way
      await settle('lose-ack');
      queue.push(5); // 3 dropped: 1, which the upstream has, stays
      succeedFromNowOn();
      expect(await queue.flush(2000)).toBe(true);
      // 1 twice, with the drop count of its first copy; the drops while it waited are announced by the next.
      expect(delivered).toEqual([[1, 0], [1, 0], [4, 2], [5, 0]]);
      expect(queue.stats()).toEqual({ queued: 0, sent: 3, dropped: 2, failedAttempts: 1, resent: 1 });
    });

    it('does not hold the queue for good when the upstream refuses it every time: after three tries it may go beyond the capacity', async () => {
      const delivered: number[] = [];
      const queue = new OutboundQueue<number>({
        capacity: 3,
        backoff: fastBackoff(),
        sendNeverLeft: (error) => error instanceof UpstreamDown,
        send: async (item) => {
          if (item === 0) throw new Error('connection closed by the upstream');
          delivered.push(item);
        },
      });
      try {
        queue.push(0);
        await waitUntil(() => queue.stats().failedAttempts >= 3, 'three refused tries');
        for (let item = 1; item <= 3; item++) queue.push(item);
        expect(await queue.flush(2000)).toBe(true);
        expect(delivered).toEqual([1, 2, 3]);
        expect(queue.stats()).toMatchObject({ sent: 3, dropped: 1, resent: 0 });
      } finally {
        queue.close();
      }
    });
  });

  it('counts a send that never answers as failed and retries it', async () => {
    let attempts = 0;
    const queue = new OutboundQueue<string>({
      capacity: 2,
      sendTimeoutMs: 20,
      backoff: fastBackoff(),
      send: async () => {
        attempts += 1;
        if (attempts === 1) await new Promise(() => undefined);
      },
    });
    queue.push('a');
    expect(await queue.flush(2000)).toBe(true);
    expect(attempts).toBe(2);
    // Unanswered is not unsent: the upstream may hold the first copy.
    expect(queue.stats()).toMatchObject({ sent: 1, failedAttempts: 1, resent: 1 });
  });

  it('stops sending after close', async () => {
    const queue = new OutboundQueue<number>({ capacity: 5, backoff: fastBackoff(), send: async () => Promise.reject(new Error('down')) });
    queue.push(1);
    queue.close();
    queue.push(2);
    expect(await queue.flush(50)).toBe(false);
    expect(queue.stats().queued).toBe(1);
  });
});
