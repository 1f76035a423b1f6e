import { SilenceClock } from './silence-clock';

describe('SilenceClock', () => {
  it('counts the time since the last new frame, tick by tick', () => {
    const clock = new SilenceClock(250, 0, 10);
    expect(clock.tick(250, 11)).toBe(0);
    expect(clock.tick(500, 11)).toBe(250);
    expect(clock.tick(760, 11)).toBe(510);
  });

  it('leaves out a pause of the process (a tick more than two ticks late) but keeps the silence before it', () => {
    const clock = new SilenceClock(250, 0, 10);
    expect(clock.tick(250, 10)).toBe(250);
    expect(clock.tick(500, 10)).toBe(500);
    // The event loop held up 1.5 s: one tick's worth of it counts.
    expect(clock.tick(2000, 10)).toBe(750);
    expect(clock.tick(2250, 10)).toBe(1000);
  });

  it('counts a tick late by less than two ticks whole (a busy loop is not a pause)', () => {
    const clock = new SilenceClock(250, 0, 10);
    expect(clock.tick(490, 10)).toBe(490);
    expect(clock.tick(980, 10)).toBe(980);
  });

  it('starts over at a new frame, even after a pause', () => {
    const clock = new SilenceClock(250, 0, 10);
    expect(clock.tick(250, 10)).toBe(250);
    expect(clock.tick(5000, 11)).toBe(0);
    expect(clock.tick(5250, 11)).toBe(250);
  });
});
