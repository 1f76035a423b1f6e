import { epochMs } from './clock';

describe('epochMs', () => {
  afterEach(() => jest.useRealTimers());

  it('is the system clock, with fractions of a millisecond', () => {
    // Bracketed by the system clock read before and after: on a loaded machine the thread may be put aside between
    // two reads for milliseconds (CI once saw epochMs 5 ms past a Date.now() read just before it).
    const readings = Array.from({ length: 1000 }, () => {
      const before = Date.now();
      const epoch = epochMs();
      return { before, epoch, after: Date.now() };
    });

    for (const { before, epoch, after } of readings) {
      expect(epoch).toBeGreaterThanOrEqual(before - 1);
      expect(epoch).toBeLessThanOrEqual(after + 2);
    }
    expect(readings.some(({ epoch }) => !Number.isInteger(epoch))).toBe(true);
  });

  it('follows the system clock when it is stepped, as every other process reading it does', () => {
    const before = epochMs();
    // Date.now() steps 20 ms back and then 5 s forward; performance.now() runs on (it is monotonic).
    jest.useFakeTimers({ doNotFake: ['performance', 'nextTick', 'setImmediate', 'queueMicrotask'], now: Date.now() - 20 });
    const afterStepBack = epochMs();
    expect(afterStepBack).toBeLessThan(before - 15);
    expect(Math.abs(afterStepBack - Date.now())).toBeLessThanOrEqual(2);

    jest.setSystemTime(Date.now() + 5000);
    expect(Math.abs(epochMs() - Date.now())).toBeLessThanOrEqual(2);
  });
});
