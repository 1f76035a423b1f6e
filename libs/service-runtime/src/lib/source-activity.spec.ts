import { setTimeout as sleep } from 'node:timers/promises';
import { SourceActivity } from './source-activity';

/** A frame of the source received, done at once and its next asked for: a model that keeps up. */
function delivered(activity: SourceActivity, sourceId: string, latencyMs: number, now: number): void {
  activity.received(sourceId, now);
  activity.done(sourceId, latencyMs, now);
  activity.waitingFor(sourceId, now);
}

describe('SourceActivity', () => {
  it('reports each source apart: rate over the last 10 s, frames, skips, median latency and its last frame', () => {
    const activity = new SourceActivity();
    const start = Date.parse('2026-12-03T12:00:00Z');
    for (let i = 0; i < 20; i++) delivered(activity, 'camera0', 100 + i, start + i * 500);
    delivered(activity, 'camera1', 40, start + 9_000);
    delivered(activity, 'camera1', 60, start + 9_500);
    activity.skipped('camera1', 3, start + 9_500);

    expect(activity.report(start + 9_600, start + 9_600)).toEqual([
      { sourceId: 'camera0', fps: 2, frames: 20, skipped: 0, latencyMs: 109.5, lastFrameAt: '2026-12-03T12:00:09.500Z', stale: false, outages: 0 },
      { sourceId: 'camera1', fps: 0.2, frames: 2, skipped: 3, latencyMs: 50, lastFrameAt: '2026-12-03T12:00:09.500Z', stale: false, outages: 0 },
    ]);
  });

  it('times sources on the monotonic clock: the wall clock set back an hour (NTP) hides no outage, and the last frame is told on the wall clock', async () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 100, onOutage: (sourceId) => outages.push(sourceId) });
    activity.received('camera0');
    activity.done('camera0', 10);
    activity.waitingFor('camera0');
    const wallNow = Date.now.bind(Date);
    const stepped = jest.spyOn(Date, 'now').mockImplementation(() => wallNow() - 3_600_000);
    try {
      await sleep(300);
      activity.check();
      expect(outages).toEqual(['camera0']);
      expect(Date.parse(activity.report()[0].lastFrameAt)).toBeLessThan(Date.now());
    } finally {
      stepped.mockRestore();
    }
  });

  it('tells the sources silent for a while, not one whose frame is held here', () => {
    const activity = new SourceActivity();
    delivered(activity, 'gate', 10, 0);
    delivered(activity, 'door', 10, 0);
    activity.received('door', 1000);
    expect(activity.silentFor(60_000, 59_999)).toEqual([]);
    expect(activity.silentFor(60_000, 60_000)).toEqual(['gate']);
  });

  it("leaves this process's own silence (stopped, a suspended VM) out of a source's: none is silent an hour for an hour of its own", () => {
    const activity = new SourceActivity();
    delivered(activity, 'gate', 10, 0);
    activity.check(1000);
    // Stopped an hour: the check after it is the first.
    activity.check(3_601_000);
    expect(activity.silentFor(3_600_000, 3_601_000)).toEqual([]);
    expect(activity.silentFor(2000, 3_601_000)).toEqual(['gate']);
  });

  it('marks a source without a frame for staleAfterMs as stale, counts the outage once, and clears it when frames resume', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 1000, onOutage: (sourceId) => outages.push(sourceId) });
    delivered(activity, 'camera0', 10, 0);
    delivered(activity, 'camera1', 10, 0);
    delivered(activity, 'camera0', 10, 900);

    activity.check(1000);
    activity.check(1500);
    expect(outages).toEqual(['camera1']);
    expect(activity.report(1500).map(({ sourceId, stale, outages }) => ({ sourceId, stale, outages }))).toEqual([
      { sourceId: 'camera0', stale: false, outages: 0 },
      { sourceId: 'camera1', stale: true, outages: 1 },
    ]);

    delivered(activity, 'camera1', 10, 1600);
    expect(activity.report(1600)[1]).toMatchObject({ stale: false, outages: 1 });
    delivered(activity, 'camera1', 10, 1700);
    // camera1 back after its outage, no slower than before it; camera0, a frame in 900 ms, has three of those.
    activity.check(2000);
    activity.check(2700);
    expect(outages).toEqual(['camera1', 'camera1']);
    activity.check(3600);
    expect(outages).toEqual(['camera1', 'camera1', 'camera0']);
  });

  it('takes a source slower than staleAfterMs as stale after three of its own intervals, once it has one', () => {
    const outages: string[] = [];
    const resumed: string[] = [];
    const activity = new SourceActivity({
      staleAfterMs: 5000,
      onOutage: (sourceId) => outages.push(sourceId),
      onResumed: (sourceId) => resumed.push(sourceId),
    });
    // CAPTURE_FPS=0.1 for a minute, checked every second as inference does: stale in its first gap only.
    for (let now = 0; now <= 60_000; now += 1000) {
      if (now % 10_000 === 0) delivered(activity, 'slow', 10, now);
      activity.check(now);
    }
    expect(outages).toEqual(['slow']);
    expect(resumed).toEqual(['slow']);

    for (let now = 61_000; now <= 89_000; now += 1000) activity.check(now);
    expect(outages).toEqual(['slow']);
    activity.check(90_000);
    expect(outages).toEqual(['slow', 'slow']);
  });

  it('blames no camera for the time its frames wait for a model that cannot keep up: only silence while a frame is asked of it counts', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, onOutage: (sourceId) => outages.push(sourceId) });
    // Six cameras, one model at 0.9 frames a second in all, checked every second: each camera's frame waits its turn
    // (6.7 s), is let go once the model can take another, and the camera's next comes 40 ms after it is asked.
    const cameras = ['camera0', 'camera1', 'camera2', 'camera3', 'camera4', 'camera5'];
    for (const camera of cameras) activity.received(camera, 0);
    const modelRunMs = 1000 / 0.9;
    let nextTurn = modelRunMs;
    for (let now = 0, turn = 0; now <= 120_000; now += 10) {
      if (now >= nextTurn) {
        const camera = cameras[turn++ % cameras.length];
        activity.done(camera, now, now);
        activity.waitingFor(camera, now);
        activity.received(camera, now + 40);
        nextTurn += modelRunMs;
      }
      if (now % 1000 === 0) activity.check(now);
    }
    expect(outages).toEqual([]);
    expect(activity.report(120_000).map(({ stale, frames }) => ({ stale, frames }))).toEqual(cameras.map(() => ({ stale: false, frames: expect.any(Number) })));
    expect(activity.report(120_000).reduce((sum, { frames }) => sum + frames, 0)).toBe(Math.floor(120_000 / modelRunMs));
  });

  it('tells a dead camera staleAfterMs after it was asked for a frame, however long its last frame waited here', () => {
    const outages: Array<[string, number]> = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, onOutage: (sourceId, silentMs) => outages.push([sourceId, silentMs]) });
    activity.received('camera0', 0);
    // Its frame waited 8 s for the model (frozen? no: checks went on every second), then the camera was asked and died.
    for (let now = 1000; now <= 8000; now += 1000) activity.check(now);
    activity.waitingFor('camera0', 8000);
    for (let now = 9000; now <= 12_000; now += 1000) activity.check(now);
    activity.check(12_999);
    expect(outages).toEqual([]);
    activity.check(13_000);
    expect(outages).toEqual([['camera0', 13_000]]);
  });

  it('tells a dead camera staleAfterMs after it was asked also when each of its frames waited here longer: the time held is not its pace', () => {
    const outages: Array<[string, number]> = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, onOutage: (sourceId, silentMs) => outages.push([sourceId, silentMs]) });
    // One camera, a model that takes 3 s a frame (a slow board), checked every second: each frame is held 3 s, let go,
    // and the next comes 40 ms after it is asked; then the camera dies, asked at 12.12 s.
    const events: Array<[number, 'received' | 'waitingFor']> = [[0, 'received'], [3000, 'waitingFor'], [3040, 'received'], [6040, 'waitingFor'], [6080, 'received'], [9080, 'waitingFor'], [9120, 'received'], [12_120, 'waitingFor']];
    for (let now = 0; now <= 17_000; now += 10) {
      for (const [at, event] of events) if (at === now) activity[event]('camera0', now);
      if (now % 1000 === 0) activity.check(now);
    }
    expect(outages).toEqual([]);
    activity.check(17_120);
    expect(outages).toEqual([['camera0', 17_120 - 9120]]);
  });

  it('blames no source for a silence of its own process (stopped, a suspended VM, a clock set forward): its sources have what was left of their stale time again from its waking', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, checkEveryMs: 1000, onOutage: (sourceId) => outages.push(sourceId) });
    for (let now = 0; now <= 3000; now += 1000) {
      delivered(activity, 'camera0', 10, now);
      delivered(activity, 'camera1', 10, now);
      activity.check(now);
    }
    // Frozen 20 s; on waking, the overdue check, then a scrape of /metrics or /health 100 ms later, then a check each
    // second, before and after each camera's frame is asked for and taken (a request repeat, a reconnect, a model
    // run: seconds on a loaded board).
    activity.check(23_000);
    activity.check(23_100);
    for (let now = 24_000; now <= 28_000; now += 1000) {
      if (now === 24_000) delivered(activity, 'camera0', 10, now);
      if (now === 26_000) delivered(activity, 'camera1', 10, now + 900);
      activity.check(now);
    }
    expect(outages).toEqual([]);

    // camera1 stopped after its frame at 26.9 s; frozen again from 31 s to 52 s: taken for stalled at the waking,
    // silent 4.1 s before the freeze and the 1 s its next check was due to take, the rest of the freeze not counted.
    for (let now = 29_000; now <= 31_000; now += 1000) {
      delivered(activity, 'camera0', 10, now);
      activity.check(now);
    }
    expect(outages).toEqual([]);
    activity.check(52_000);
    expect(outages).toEqual(['camera1']);
  });

  it('blames no source for a freeze of its own shorter than staleAfterMs, given how often it checks', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, checkEveryMs: 1000, onOutage: (sourceId) => outages.push(sourceId) });
    for (let now = 0; now <= 3000; now += 100) {
      delivered(activity, 'camera0', 10, now);
      if (now % 1000 === 0) activity.check(now);
    }
    // Frozen 4 s after its last check; frames come back 1.2 s after the waking.
    activity.check(7000);
    activity.check(8000);
    delivered(activity, 'camera0', 10, 8200);
    activity.check(9000);
    expect(outages).toEqual([]);
    // Its checks a second apart again: a silence of the stale time is the camera's.
    for (let now = 10_000; now <= 13_200; now += 1000) activity.check(now);
    activity.check(13_200);
    expect(outages).toEqual(['camera0']);
  });

  it('still tells a dead camera when its checks come late every time (an event loop behind by over a period)', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 5000, checkEveryMs: 1000, onOutage: (sourceId) => outages.push(sourceId) });
    delivered(activity, 'camera0', 10, 0);
    // Checks 2.2 s apart: 1.2 s of each gap is this process's own silence, 1 s the camera's.
    let now = 0;
    while (outages.length === 0 && now < 60_000) activity.check((now += 2200));
    expect(outages).toEqual(['camera0']);
    expect(now).toBeLessThanOrEqual(13_200);
  });

  it('forgets a source that is gone, not counting its frames still in flight, and counts one of the same id later afresh', () => {
    const outages: string[] = [];
    const activity = new SourceActivity({ staleAfterMs: 1000, onOutage: (sourceId) => outages.push(sourceId) });
    delivered(activity, 'camera0', 10, 0);
    delivered(activity, 'garage', 10, 0);
    activity.forget('garage', 100);
    delivered(activity, 'garage', 10, 200);
    activity.skipped('garage', 2, 200);
    expect(activity.report(300).map(({ sourceId }) => sourceId)).toEqual(['camera0']);
    activity.check(1000);
    activity.check(5000);
    expect(outages).toEqual(['camera0']);

    delivered(activity, 'garage', 30, 5100);
    expect(activity.report(5100)[1]).toMatchObject({ sourceId: 'garage', frames: 1, skipped: 0, latencyMs: 30, outages: 0 });
  });

  it('counts a source of a forgotten id at once when told to expect it (a camera added again)', () => {
    const activity = new SourceActivity({ staleAfterMs: 1000 });
    delivered(activity, 'garage', 10, 0);
    activity.forget('garage', 100);
    activity.expect('garage');
    delivered(activity, 'garage', 20, 200);
    expect(activity.report(200)).toMatchObject([{ sourceId: 'garage', frames: 1, latencyMs: 20 }]);
  });
});
