import { SourceScheduler, type OfferOutcome, type SchedulableFrame } from './source-scheduler';

interface TestFrame extends SchedulableFrame {
  sequence: number;
}

const frame = (sourceId: string, sequence = 0, width = 640, height = 480): TestFrame => ({ sourceId, sequence, width, height });
const names = (frames: TestFrame[]) => frames.map(({ sourceId, sequence }) => `${sourceId}#${sequence}`);

/** Whether the promise has settled by the end of this turn of the event loop, and with what. */
async function settledWith<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('SourceScheduler', () => {
  let scheduler: SourceScheduler<TestFrame>;

  beforeEach(() => {
    scheduler = new SourceScheduler({ refreshAfterMs: 60_000 });
  });

  afterEach(() => scheduler.close());

  it('keeps only the newest frame of a source: an older one waiting is replaced', async () => {
    const older = scheduler.offer(frame('a', 1));
    const newer = scheduler.offer(frame('a', 2));
    expect(await older).toBe('replaced');
    expect(scheduler.waiting).toBe(1);
    expect(names(await scheduler.take())).toEqual(['a#2']);
    expect(await newer).toBe('taken');
  });

  it('tells of each frame that leaves without going to the model, replaced or waiting at close, and of no other', async () => {
    const discarded: TestFrame[] = [];
    const telling = new SourceScheduler<TestFrame>({ refreshAfterMs: 60_000, discarded: (frame) => discarded.push(frame) });
    void telling.offer(frame('a', 1));
    void telling.offer(frame('a', 2));
    void telling.offer(frame('b', 1));
    expect(names(await telling.take())).toEqual(['a#2']);
    void telling.offer(frame('c', 1));
    telling.close();
    expect(names(discarded)).toEqual(['a#1', 'b#1', 'c#1']);
  });

  it('gives sources with a frame waiting their turns round robin, a served source going to the back of the line', async () => {
    for (const source of ['a', 'b', 'c']) void scheduler.offer(frame(source, 1));
    expect(names(await scheduler.take())).toEqual(['a#1']);
    void scheduler.offer(frame('a', 2));
    expect(names(await scheduler.take())).toEqual(['b#1']);
    expect(names(await scheduler.take())).toEqual(['c#1']);
    expect(names(await scheduler.take())).toEqual(['a#2']);
  });

  it('settles an offer only when its frame leaves its place, so its source is asked for the next one then', async () => {
    const a = scheduler.offer(frame('a'));
    const b = scheduler.offer(frame('b'));
    await scheduler.take();
    expect(await settledWith(a)).toBe('taken');
    expect(await settledWith(b)).toBe('pending');
  });

  it('lets no fast camera crowd out a slow one: each slow frame is served within one round, each camera gets its share', async () => {
    // Two cameras with a new frame the moment one is taken, one with a frame only every fifth turn.
    const served = new Map<string, number>();
    const offerNext = (sourceId: string, sequence: number) =>
      void scheduler.offer(frame(sourceId, sequence)).then((outcome: OfferOutcome) => {
        if (outcome === 'taken') offerNext(sourceId, sequence + 1);
      });
    offerNext('fast1', 0);
    offerNext('fast2', 0);
    let slowOfferedAt = -1;
    for (let turn = 0; turn < 60; turn++) {
      if (turn % 5 === 0) {
        void scheduler.offer(frame('slow', turn));
        slowOfferedAt = turn;
      }
      const [taken] = await scheduler.take();
      served.set(taken.sourceId, (served.get(taken.sourceId) ?? 0) + 1);
      // Three sources: a slow frame waits for at most the two ahead of it.
      if (taken.sourceId === 'slow') expect(turn - slowOfferedAt).toBeLessThanOrEqual(2);
      await new Promise((resolve) => setImmediate(resolve)); // the fast cameras' next frames arrive
    }
    expect(served.get('slow')).toBe(12);
    expect(served.get('fast1')).toBe(24);
    expect(served.get('fast2')).toBe(24);
  });

  it('hands out a batch of up to maxBatch frames of one size from different sources; the others keep their places', async () => {
    void scheduler.offer(frame('a', 1, 640, 480));
    void scheduler.offer(frame('b', 1, 320, 240));
    void scheduler.offer(frame('c', 1, 640, 480));
    void scheduler.offer(frame('d', 1, 640, 480));
    void scheduler.offer(frame('e', 1, 320, 240));
    expect(names(await scheduler.take(2))).toEqual(['a#1', 'c#1']);
    expect(names(await scheduler.take(4))).toEqual(['b#1', 'e#1']);
    expect(names(await scheduler.take(4))).toEqual(['d#1']);
    expect(scheduler.waiting).toBe(0);
  });

  it('asks for a newer frame once one has waited refreshAfterMs, keeping its place until the newer one replaces it', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const refreshing = new SourceScheduler<TestFrame>({ refreshAfterMs: 100 });
      void refreshing.offer(frame('a', 1));
      const old = refreshing.offer(frame('b', 1));
      jest.advanceTimersByTime(99);
      expect(await settledWith(old)).toBe('pending');
      jest.advanceTimersByTime(1);
      expect(await old).toBe('refresh');
      expect(refreshing.waiting).toBe(2);
      void refreshing.offer(frame('b', 2));
      void refreshing.offer(frame('c', 1));
      expect(names(await refreshing.take(3))).toEqual(['a#1', 'b#2', 'c#1']);
      refreshing.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('waits for a frame when none is waiting; close settles the waiting take with nothing and waiting offers as closed', async () => {
    const taking = scheduler.take();
    expect(await settledWith(taking)).toBe('pending');
    void scheduler.offer(frame('a'));
    expect(names(await taking)).toEqual(['a#0']);

    const waiting = scheduler.offer(frame('b'));
    scheduler.close();
    expect(await waiting).toBe('closed');
    expect(await scheduler.take()).toEqual([]);
    expect(await scheduler.offer(frame('c'))).toBe('closed');
  });
});
