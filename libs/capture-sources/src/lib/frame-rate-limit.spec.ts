import { FrameRateLimit } from './frame-rate-limit';

/** Which frames, arriving at these milliseconds, a limit at fps keeps. */
function kept(fps: number, arrivalsMs: number[]): boolean[] {
  const limit = new FrameRateLimit(fps);
  return arrivalsMs.map((arrivalMs) => limit.admits(arrivalMs));
}

/** `count` arrivals `intervalMs` apart from `startMs`. */
const evenly = (count: number, intervalMs: number, startMs = 0) => Array.from({ length: count }, (_, index) => startMs + index * intervalMs);

describe('FrameRateLimit', () => {
  it('keeps every frame of a source no faster than the rate: nothing is repeated, nothing lost', () => {
    expect(kept(30, evenly(60, 1000 / 30))).toEqual(Array(60).fill(true));
    expect(kept(30, evenly(30, 1000 / 15))).toEqual(Array(30).fill(true));
  });

  it('keeps every frame of a source at the rate whose frames come unevenly, three at once', () => {
    const threesAtOnce = evenly(20, 100).flatMap((startMs) => [startMs, startMs + 1, startMs + 2]);

    expect(kept(30, threesAtOnce)).toEqual(Array(60).fill(true));
  });

  it('keeps every frame of a source at the rate whose first frame came late, up to a quarter second', () => {
    // The first frame 240 ms late (a pipeline starting), the rest on time, so 240 ms early by the first's clock.
    const arrivals = [240, ...evenly(59, 1000 / 30, 1000 / 30)];

    expect(kept(30, arrivals)).toEqual(Array(60).fill(true));
  });

  it('holds a faster source to the rate, starting full: the allowance more at most', () => {
    // 10 s of 30 fps at 10: 100 frames, and the 2.5 of the quarter second's allowance the bucket starts with, and one.
    expect(kept(10, evenly(300, 1000 / 30)).filter(Boolean)).toHaveLength(103);
    expect(kept(10, evenly(12, 1000 / 30))).toEqual([true, true, true, true, false, true, false, false, true, false, false, true]);
  });

  it('lets a backlog after a stall through by a quarter second\'s frames and one at most', () => {
    // A stall of 2 s after the first frame, then 30 frames at once.
    const backlog = kept(20, [0, ...Array(30).fill(2000)]);

    expect(backlog.filter(Boolean)).toHaveLength(1 + 1 + 5);
  });

  it('keeps a source far slower than the rate to its own frames: a frame a minute at CAPTURE_FPS=0.1', () => {
    expect(kept(0.1, evenly(5, 60_000))).toEqual(Array(5).fill(true));
    expect(kept(0.1, evenly(5, 1_000))).toEqual([true, false, false, false, false]);
  });
});
