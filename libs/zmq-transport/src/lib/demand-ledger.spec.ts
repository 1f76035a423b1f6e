import { DemandLedger } from './demand-ledger';

const FRAMES = 'frames';

function ledgerAt(start = 0) {
  const clock = { now: start };
  const ledger = new DemandLedger<string>({ peerTimeoutMs: 5000, now: () => clock.now });
  return { ledger, clock };
}

const buffer = () => new ArrayBuffer(1024);
const peersOf = (deliveries: Array<{ peer: string }>) => deliveries.map(({ peer }) => peer);

describe('DemandLedger', () => {
  it('sends a message only to peers waiting for one, and each request covers one message', () => {
    const { ledger } = ledgerAt();
    expect(ledger.request('a', FRAMES, 1, 0)).toEqual([]);
    ledger.request('b', FRAMES, 0, 0);

    expect(ledger.publish(FRAMES, 'frame', [buffer()])).toEqual([{ peer: 'a', ordinal: 1, message: 'frame' }]);
    expect(ledger.publish(FRAMES, 'frame', [buffer()])).toEqual([]);
    expect(ledger.wanted(FRAMES)).toBe(false);
  });

  it('owes a late asker the newest message unless it already had it', () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, 'frame', [buffer()]);

    expect(ledger.request('b', FRAMES, 1, 0)).toEqual([{ peer: 'b', ordinal: 1, message: 'frame' }]);
    expect(ledger.request('a', FRAMES, 1, 1)).toEqual([]);
    expect(ledger.request('b', FRAMES, 1, 1)).toEqual([]);
    expect(peersOf(ledger.publish(FRAMES, 'frame', [buffer()]))).toEqual(['a', 'b']);
  });

  it('owes a late asker nothing withdrawn, a follower neither, and holds it only where it was sent and not acknowledged', async () => {
    const { ledger } = ledgerAt();
    ledger.request('leader', FRAMES, 1, 0);
    ledger.request('follower', FRAMES, 0, 0, true);
    const withdrawn = buffer();
    ledger.publish(FRAMES, 'removed camera', [withdrawn]);
    ledger.withdraw(FRAMES);

    expect(ledger.request('late', FRAMES, 1, 0)).toEqual([]);
    expect(ledger.request('follower', FRAMES, 1, 0, true)).toEqual([]);
    expect(ledger.holds(withdrawn)).toBe(true); // the leader has yet to say it received it
    ledger.request('leader', FRAMES, 0, 1);
    expect(ledger.holds(withdrawn)).toBe(false);
    // The late asker's want is produced for, as any.
    await expect(ledger.whenWanted(FRAMES)).resolves.toBeUndefined();
    expect(peersOf(ledger.publish(FRAMES, 'next', [buffer()]))).toEqual(['late', 'follower']);
  });

  it('counts messages on their way against a request: a repeat, or one that crossed a message, gets no more', () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, 'frame', [buffer()]); // ordinal 1, on its way
    ledger.request('a', FRAMES, 1, 0); // sent before it arrived

    expect(ledger.publish(FRAMES, 'frame', [buffer()])).toEqual([]);
    // Received it, wants another: the newest is owed.
    expect(ledger.request('a', FRAMES, 1, 1)).toEqual([{ peer: 'a', ordinal: 2, message: 'frame' }]);
  });

  it('caps what one request may claim', () => {
    const ledger = new DemandLedger<string>({ maxWants: 2 });
    ledger.request('a', FRAMES, 1_000_000, 0);
    ledger.publish(FRAMES, 'frame', []);
    ledger.publish(FRAMES, 'frame', []);
    expect(ledger.publish(FRAMES, 'frame', [])).toEqual([]);
  });

  it('wakes whenWanted on the first request that needs a new message, not on one the newest covers', async () => {
    const { ledger } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, 'frame', [buffer()]);
    let woken = false;
    const waiting = ledger.whenWanted(FRAMES).then(() => (woken = true));

    ledger.request('b', FRAMES, 1, 0); // owed the newest: nothing new needed
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
    ledger.publish(FRAMES, 'frame', [first]);
    ledger.publish(FRAMES, 'frame', [second]);
    ledger.publish(FRAMES, 'frame', [buffer()]);

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
    ledger.publish(FRAMES, 'frame', [sent]);
    ledger.publish(FRAMES, 'frame', [buffer()]);

    ledger.request('a', FRAMES, 1, 500);
    expect(ledger.holds(sent)).toBe(true);
    expect(ledger.wanted(FRAMES)).toBe(false); // the one on its way covers what it wants
  });

  it('forgets a silent peer and its wants, but keeps holding what it never acknowledged', () => {
    const { ledger, clock } = ledgerAt();
    const sent = buffer();
    ledger.request('a', FRAMES, 2, 0);
    ledger.publish(FRAMES, 'frame', [sent]);
    ledger.publish(FRAMES, 'frame', [buffer()]);

    clock.now += 5001;
    expect(ledger.peerCount).toBe(0);
    expect(ledger.wanted(FRAMES)).toBe(false);
    expect(ledger.holds(sent)).toBe(true);
  });

  it('counts on for a peer forgotten for its silence and heard from again (the same connection): nothing it had is sent again', () => {
    const { ledger, clock } = ledgerAt();
    ledger.request('a', FRAMES, 1, 0);
    ledger.publish(FRAMES, 'frame', [buffer()]); // ordinal 1
    clock.now += 20_000;
    expect(ledger.peerCount).toBe(0);

    expect(ledger.request('a', FRAMES, 1, 1)).toEqual([]);
    expect(ledger.publish(FRAMES, 'next', [buffer()])).toEqual([{ peer: 'a', ordinal: 2, message: 'next' }]);
    // Unreachable (a send failed): forgotten for good, so a peer of that id would be a new connection.
    ledger.forget('a');
    expect(ledger.request('a', FRAMES, 1, 2)).toEqual([{ peer: 'a', ordinal: 1, message: 'next' }]);
  });

  it('releases whenWanted waiters on demand, for a producer that closes', async () => {
    const { ledger } = ledgerAt();
    const waiting = ledger.whenWanted(FRAMES);
    ledger.releaseWaiters();
    await expect(waiting).resolves.toBeUndefined();
  });

  describe('a follower', () => {
    it('gets the messages a leading peer takes, the newest of them, and never makes one be produced for it alone', async () => {
      const { ledger } = ledgerAt();
      ledger.request('inference', FRAMES, 1, 0);
      ledger.request('preview', FRAMES, 1, 0, true);
      expect(peersOf(ledger.publish(FRAMES, 'taken', [buffer()]))).toEqual(['inference', 'preview']);
      expect(ledger.publish(FRAMES, 'untaken', [buffer()])).toEqual([]); // nobody waits for it

      expect(ledger.request('preview', FRAMES, 1, 1, true)).toEqual([]); // it had the newest taken: it waits
      expect(ledger.wanted(FRAMES)).toBe(false);
      let produced = false;
      void ledger.whenWanted(FRAMES).then(() => (produced = true));
      await Promise.resolve();
      expect(produced).toBe(false);

      // The leader asks again and takes the newest: the follower waiting gets it with it.
      expect(ledger.request('inference', FRAMES, 1, 1)).toEqual([
        { peer: 'inference', ordinal: 2, message: 'untaken' },
        { peer: 'preview', ordinal: 2, message: 'untaken' },
      ]);
      ledger.request('preview', FRAMES, 1, 2, true);
      expect(ledger.publish(FRAMES, 'not asked for', [buffer()])).toEqual([]);
      expect(peersOf(ledger.request('inference', FRAMES, 1, 2))).toEqual(['inference', 'preview']);
    });

    it('holds the newest message a leading peer took until a newer one is taken and the follower has said it received it', () => {
      const { ledger } = ledgerAt();
      const taken = buffer();
      ledger.request('preview', FRAMES, 1, 0, true);
      ledger.request('inference', FRAMES, 1, 0);
      expect(peersOf(ledger.publish(FRAMES, 'frame', [taken]))).toEqual(['inference', 'preview']);
      ledger.publish(FRAMES, 'newer', [buffer()]);
      ledger.request('preview', FRAMES, 0, 1, true);
      expect(ledger.holds(taken)).toBe(true); // what the follower would get next

      ledger.request('inference', FRAMES, 1, 1);
      expect(ledger.holds(taken)).toBe(false);
    });

    it('is served like any peer while no leading peer is there, and from when the last one goes', async () => {
      const { ledger, clock } = ledgerAt();
      ledger.request('preview', FRAMES, 1, 0, true);
      expect(ledger.wanted(FRAMES)).toBe(true);
      expect(peersOf(ledger.publish(FRAMES, 'frame', [buffer()]))).toEqual(['preview']);

      ledger.request('inference', FRAMES, 1, 0);
      ledger.publish(FRAMES, 'taken', [buffer()]);
      clock.now += 3000;
      ledger.request('preview', FRAMES, 1, 1, true);
      expect(ledger.wanted(FRAMES)).toBe(false);
      const produced = ledger.whenWanted(FRAMES);
      clock.now += 2001; // inference silent for 5 s: forgotten, and the preview's want wakes the producer
      expect(ledger.request('preview', FRAMES, 1, 1, true)).toEqual([{ peer: 'preview', ordinal: 2, message: 'taken' }]);
      ledger.request('preview', FRAMES, 1, 2, true);
      await expect(produced).resolves.toBeUndefined();
      expect(peersOf(ledger.publish(FRAMES, 'alone', [buffer()]))).toEqual(['preview']);
    });
  });
});
