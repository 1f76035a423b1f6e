import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const backoff = new Backoff(100, 1000, 0);
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('gives the longest delay at once where asked, counting it as an attempt', () => {
    const backoff = new Backoff(100, 1000, 0);
    expect([backoff.longest(), backoff.longest(), backoff.next()]).toEqual([1000, 1000, 400]);
  });

  it('starts over after reset()', () => {
    const backoff = new Backoff(100, 1000, 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('starts over after up() only once what it guards stayed up that long', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const backoff = new Backoff(100, 1000, 0);
      backoff.next();
      backoff.up(10_000);
      jest.advanceTimersByTime(9_999);
      expect(backoff.next()).toBe(200); // dropped too soon: keeps backing off
      backoff.up(10_000);
      // The wall clock stepped an hour ahead (NTP at boot on a board without RTC) is no time up.
      jest.setSystemTime(Date.now() + 3_600_000);
      expect(backoff.next()).toBe(400);
      backoff.up(10_000);
      jest.advanceTimersByTime(10_000);
      expect(backoff.next()).toBe(100);
      expect(backoff.next()).toBe(200); // once: up() is spent by the failure after it
    } finally {
      jest.useRealTimers();
    }
  });

  it('makes a fresh backoff of the same delays, from the first, apart from its own', () => {
    const backoff = new Backoff(100, 400, 0);
    backoff.next();
    backoff.next();
    const fresh = backoff.fresh();
    expect([fresh.next(), fresh.next(), fresh.next(), fresh.next()]).toEqual([100, 200, 400, 400]);
    expect(backoff.next()).toBe(400);
  });

  it('keeps jittered delays within the jitter band', () => {
    const backoff = new Backoff(1000, 1000, 0.2);
    for (let i = 0; i < 100; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(800);
      expect(delay).toBeLessThanOrEqual(1200);
    }
  });
});
