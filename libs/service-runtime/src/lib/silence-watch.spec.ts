import { SilenceWatch } from './silence-watch';

/** A watch on a clock the spec sets, and the log lines it wrote. */
function watchAt(limitMs: number) {
  const clock = { now: 0 };
  const lines: Array<{ level: 'warn' | 'info'; fields: object; msg: string }> = [];
  const logger = {
    warn: (fields: object, msg: string) => lines.push({ level: 'warn', fields, msg }),
    info: (fields: object, msg: string) => lines.push({ level: 'info', fields, msg }),
  };
  const watch = new SilenceWatch({ limitMs, logger: logger as never, now: () => clock.now });
  /** Checks at each second up to `until`, as the watch's timer does. */
  const checkEverySecondUntil = (until: number) => {
    for (; clock.now < until; ) {
      clock.now = Math.min(until, clock.now + 1000);
      watch.check();
    }
  };
  return { watch, clock, lines, checkEverySecondUntil };
}

describe('SilenceWatch', () => {
  let close: () => void = () => undefined;
  afterEach(() => close());

  it("logs a silence once as it begins, with what, where (under its setting's name) and why, and once as it ends", () => {
    const { watch, lines, checkEverySecondUntil } = watchAt(3000);
    close = () => watch.close();
    const frames = watch.silence({ what: 'frames', setting: 'framesConnect', endpoint: 'tcp://capture:5555', cause: 'capture stopped' });
    checkEverySecondUntil(2000);
    expect(lines).toEqual([]);
    checkEverySecondUntil(5000);
    expect(frames.silentForMs).toBe(5000);
    expect(lines).toEqual([{ level: 'warn', fields: { silentSeconds: 3, framesConnect: 'tcp://capture:5555' }, msg: 'no frames for 3 s on tcp://capture:5555: capture stopped' }]);
    frames.arrived('camera0');
    expect(lines[1]).toEqual({ level: 'info', fields: { silentSeconds: 5 }, msg: 'frames again after about 5 s' });
    checkEverySecondUntil(6000);
    expect(frames.silentForMs).toBeUndefined();
    expect(lines).toHaveLength(2);
  });

  it('leaves its own silence out: what stopped arriving while the process was stopped itself is not silent', () => {
    const { watch, clock, lines, checkEverySecondUntil } = watchAt(3000);
    close = () => watch.close();
    const detections = watch.silence({ what: 'detections', setting: 'detectionsConnect', endpoint: 'tcp://inference:5556', cause: 'inference stopped' });
    detections.arrived('camera0');
    checkEverySecondUntil(1000);
    detections.arrived('camera0');
    // Stopped 12 s: no check meanwhile; its detections resume with it.
    clock.now = 13_000;
    watch.check();
    detections.arrived('camera0');
    checkEverySecondUntil(14_000);
    expect(detections.silentForMs).toBeUndefined();
    expect(lines).toEqual([]);
    // Silent after it, on the clock less the pause.
    checkEverySecondUntil(16_000);
    expect(detections.silentForMs).toBe(3000);
    expect(lines.map(({ msg }) => msg)).toEqual(['no detections for 3 s on tcp://inference:5556: inference stopped']);
  });

  it('judges other troubles at the same checks', () => {
    const { watch, checkEverySecondUntil } = watchAt(0);
    close = () => watch.close();
    let checks = 0;
    watch.alsoCheck({ check: () => checks++ });
    checkEverySecondUntil(3000);
    expect(checks).toBe(3);
  });

  it('with limit 0, never judges silence', () => {
    const { watch, lines, checkEverySecondUntil } = watchAt(0);
    close = () => watch.close();
    const frames = watch.silence({ what: 'frames', setting: 'framesConnect', endpoint: 'tcp://capture:5555', cause: 'capture stopped' });
    checkEverySecondUntil(86_400_000);
    expect(frames.silentForMs).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('checks every second by itself: a silence is logged with no one asking', () => {
    jest.useFakeTimers();
    try {
      const { watch, clock, lines } = watchAt(3000);
      close = () => watch.close();
      watch.silence({ what: 'frames', setting: 'framesConnect', endpoint: 'tcp://capture:5555', cause: 'capture stopped' });
      for (let second = 1; second <= 3; second++) {
        clock.now = second * 1000;
        jest.advanceTimersByTime(1000);
      }
      expect(lines.map(({ msg }) => msg)).toEqual(['no frames for 3 s on tcp://capture:5555: capture stopped']);
    } finally {
      jest.useRealTimers();
    }
  });
});
