import { RateMeter } from './rate-meter';

describe('RateMeter', () => {
  it('counts events per second over its window and forgets older ones', () => {
    const meter = new RateMeter(2000);
    for (let t = 0; t < 2000; t += 100) meter.mark(t);
    expect(meter.perSecond(1999)).toBe(10);
    // At 3000 ms only the events after 1000 ms are inside the window.
    expect(meter.perSecond(3000)).toBe(4.5);
    expect(meter.perSecond(10_000)).toBe(0);
  });
});
