import { epochMs } from './clock';

describe('epochMs', () => {
  afterEach(() => jest.useRealTimers());

  it('is the system clock, with fractions of a millisecond', () => {
    const readings = Array.from({ length: 1000 }, () => {
      const wall = Date.now();
      return { wall, epoch: epochMs() };
    });

    for (const { wall, epoch } of readings) {
      expect(epoch).toBeGreaterThanOrEqual(wall - 1);
      expect(epoch).toBeLessThanOrEqual(wall + 3);
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
