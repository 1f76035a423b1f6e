import { Arrivals } from './arrivals';

/** Marks at each of `times`, checking every `stepMs` from the first to `until`: when it was first seen stalled after each mark. */
function stallsSeen(times: number[], until: number, floorMs = 5000, stepMs = 1000): number[] {
  const arrivals = new Arrivals();
  const seen: number[] = [];
  let stalled = false;
  for (let now = times[0]; now <= until; now += stepMs) {
    if (times.includes(now)) {
      arrivals.mark(now);
      stalled = false;
    }
    if (!stalled && arrivals.stalled(now, floorMs)) seen.push(now);
    stalled = arrivals.stalled(now, floorMs);
  }
  return seen;
}

describe('Arrivals', () => {
  it('has no age and never stalls before its first arrival, unless told since when silence counts', () => {
    expect(new Arrivals().ageMs(60_000)).toBeNull();
    expect(new Arrivals().stalled(60_000, 5000)).toBe(false);
    const sinceStart = new Arrivals(1000);
    expect(sinceStart.ageMs(7000)).toBeNull();
    expect(sinceStart.stalled(5999, 5000)).toBe(false);
    expect(sinceStart.stalled(6000, 5000)).toBe(true);
  });

  it('stalls after the floor when it comes faster than a third of it', () => {
    expect(stallsSeen([0, 1000, 2000, 3000], 20_000)).toEqual([8000]);
  });

  it('takes a source slower than the floor for stalled in its first gap only, then after three of its gaps', () => {
    // CAPTURE_FPS=0.1 for a minute, then gone.
    const frames = [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000];
    expect(stallsSeen(frames, 120_000)).toEqual([5000, 90_000]);
  });

  it('after an outage sees the next one as soon as before: one long gap does not make it look slow', () => {
    // 2 fps, a minute's outage, back for a second, gone again.
    const frames = [0, 500, 1000, 61_000, 61_500, 62_000];
    expect(stallsSeen(frames, 120_000)).toEqual([6000, 67_000]);
  });

  it('follows a source that slows down, taking it for stalled in its first two slow gaps', () => {
    const frames = [0, 1000, 2000, 12_000, 22_000, 32_000, 42_000];
    expect(stallsSeen(frames, 100_000)).toEqual([7000, 17_000, 72_000]);
  });

  it('after a restart, takes a burst of frames for one arrival: its next usual gap is no stall', () => {
    // CAPTURE_FPS=0.1, a 30 s outage, then a reconnect whose first frames come 40 ms apart (the decoder's buffered ones).
    const frames = [0, 10_000, 20_000, 30_000, 65_000, 65_040, 65_080, 75_080, 85_080, 95_080];
    expect(stallsSeen(frames, 130_000, 5000, 40)).toEqual([5000, 60_000, 125_080]);
  });

  it('follows a source that speeds up within a few of its new gaps, noticing a stall at its old pace at the latest meanwhile', () => {
    const slowThenFast = (fastFrames: number) => [0, 10_000, 20_000, 30_000, ...Array.from({ length: fastFrames }, (_, index) => 31_000 + 1000 * index)];
    // 0.1 fps, then 1 fps from 31 s to 45 s: after the floor.
    expect(stallsSeen(slowThenFast(15), 100_000)).toEqual([5000, 50_000]);
    // Gone two frames into the faster pace: three of its old gaps.
    expect(stallsSeen(slowThenFast(2), 100_000)).toEqual([5000, 62_000]);
  });

  it('gives its age in whole milliseconds', () => {
    const arrivals = new Arrivals();
    arrivals.mark(100.2);
    expect(arrivals.ageMs(350.9)).toBe(251);
  });
});
