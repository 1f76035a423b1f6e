import { Arrivals } from './arrivals';

/** Marks at each of `times`, checking every second from the first to `until`: when it was first seen stalled after each mark. */
function stallsSeen(times: number[], until: number, floorMs = 5000): number[] {
  const arrivals = new Arrivals();
  const seen: number[] = [];
  let stalled = false;
  for (let now = times[0]; now <= until; now += 1000) {
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

  it('gives its age in whole milliseconds', () => {
    const arrivals = new Arrivals();
    arrivals.mark(100.2);
    expect(arrivals.ageMs(350.9)).toBe(251);
  });
});
