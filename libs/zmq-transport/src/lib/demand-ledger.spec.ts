import { DemandLedger } from './demand-ledger';

const FRAMES = 'frames';

function ledgerAt(start = 0) {
  const clock = { now: start };
  const ledger = new DemandLedger({ peerTimeoutMs: 5000, now: () => clock.now });
  return { ledger, clock };
}

const buffer = () => new ArrayBuffer(1024);
const peersOf = (deliveries: Array<{ peer: string }>) => deliveries.map(({ peer }) => peer);

describe('DemandLedger', () => {
  it('sends a message only to peers waiting for one, and each request covers one message', () => {
    const { ledger } = ledgerAt();
    expect(ledger.request('a', FRAMES, 1, 0)).toBe(false);
    ledger.request('b', FRAMES, 0, 0);

    expect(ledger.publish(FRAMES, [buffer()])).toEqual([{ peer: 'a', ordinal: 1 }]);
    expect(ledger.publish(FRAMES, [buffer()])).toEqual([]);
    expect(ledger.wanted(FRAMES)).toBe(false);
  });

  it('owes a late asker the newest message unless it already had it', () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, [buffer()]);

    expect(ledger.request('b', FRAMES, 1, 0)).toBe(true);
    expect(ledger.deliverLatest('b', FRAMES)).toEqual({ peer: 'b', ordinal: 1 });
    expect(ledger.request('a', FRAMES, 1, 1)).toBe(false);
    expect(ledger.request('b', FRAMES, 1, 1)).toBe(false);
    expect(peersOf(ledger.publish(FRAMES, [buffer()]))).toEqual(['a', 'b']);
  });

  it('counts messages on their way against a request: a repeat, or one that crossed a message, gets no more', () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, [buffer()]); // ordinal 1, on its way
    ledger.request('a', FRAMES, 1, 0); // sent before it arrived

    expect(ledger.publish(FRAMES, [buffer()])).toEqual([]);
    ledger.request('a', FRAMES, 1, 1); // received it, wants another: the newest is owed
    expect(ledger.wanted(FRAMES)).toBe(true);
  });

  it('caps what one request may claim', () => {
    const ledger = new DemandLedger({ maxWants: 2 });
    ledger.request('a', FRAMES, 1_000_000, 0);
    ledger.publish(FRAMES, []);
    ledger.publish(FRAMES, []);
    expect(ledger.publish(FRAMES, [])).toEqual([]);
  });

  it('wakes whenWanted on the first request that needs a new message, not on one the newest covers', async () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, [buffer()]);
    let woken = false;
    const waiting = ledger.whenWanted(FRAMES).then(() => (woken = true));

    ledger.request('b', FRAMES, 1, 0); // owed the newest: nothing new needed
    ledger.deliverLatest('b', FRAMES);
    await Promise.resolve();
    expect(woken).toBe(false);

    ledger.request('a', FRAMES, 1, 1);
    await waiting;
    expect(woken).toBe(true);
  });

  it('holds the newest message and what a peer has not yet said it received', () => {
    const { ledger } = ledgerAt();
    const first = buffer();
    const second = buffer();
    ledger.request('a', FRAMES, 2, 0);
    ledger.publish(FRAMES, [first]);
    ledger.publish(FRAMES, [second]);
    ledger.publish(FRAMES, [buffer()]);

    expect(ledger.holds(first)).toBe(true);
    expect(ledger.holds(second)).toBe(true);
    ledger.request('a', FRAMES, 0, 1);
    expect(ledger.holds(first)).toBe(false);
    expect(ledger.holds(second)).toBe(true);
    ledger.request('a', FRAMES, 0, 2);
    expect(ledger.holds(second)).toBe(false);
  });

  it('takes a count above what this connection was sent as acknowledging nothing (the consumer reconnected)', () => {
    const { ledger } = ledgerAt();
    const sent = buffer();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, [sent]);
    ledger.publish(FRAMES, [buffer()]);

    ledger.request('a', FRAMES, 1, 500);
    expect(ledger.holds(sent)).toBe(true);
    expect(ledger.wanted(FRAMES)).toBe(false); // the one on its way covers what it wants
  });

  it('forgets a silent peer and its wants, but keeps holding what it never acknowledged', () => {
    const { ledger, clock } = ledgerAt();
    const sent = buffer();
    ledger.request('a', FRAMES, 2, 0);
    ledger.publish(FRAMES, [sent]);
    ledger.publish(FRAMES, [buffer()]);

    clock.now += 5001;
    expect(ledger.peerCount).toBe(0);
    expect(ledger.wanted(FRAMES)).toBe(false);
    expect(ledger.holds(sent)).toBe(true);
  });

  it('releases whenWanted waiters on demand, for a producer that closes', async () => {
    const { ledger } = ledgerAt();
    const waiting = ledger.whenWanted(FRAMES);
    ledger.releaseWaiters();
    await expect(waiting).resolves.toBeUndefined();
  });
});
