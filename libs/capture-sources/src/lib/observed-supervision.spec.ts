import { ColorMatrix } from '@iev/frame-protocol';
import pino from 'pino';
import { observedSupervision } from './observed-supervision';

function observed() {
  const lines: Array<Record<string, unknown>> = [];
  const calls: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const listener = observedSupervision(
    { setUp: (up) => calls.push(`up ${up}`), countRestart: () => calls.push('restart'), addDownSeconds: (seconds) => calls.push(`down ${seconds}`), countSwitchFailure: () => calls.push('switch failed') },
    logger,
  );
  return { listener, lines, calls };
}

describe('observedSupervision', () => {
  it('marks a streaming source up and logs its size and colours, the matrix by name, and the outage it ends', () => {
    const { listener, lines, calls } = observed();

    listener.streaming?.({ width: 1280, height: 720, colorMatrix: ColorMatrix.BT709, fullRange: true });
    listener.streaming?.({ width: 640, height: 480, downSeconds: 2.5 });

    expect(calls).toEqual(['up 1', 'up 1']);
    expect(lines.map(({ msg, width, height, colorMatrix, fullRange, downSeconds }) => ({ msg, width, height, colorMatrix, fullRange, downSeconds }))).toEqual([
      { msg: 'source streaming', width: 1280, height: 720, colorMatrix: 'BT709', fullRange: true, downSeconds: undefined },
      { msg: 'source streaming', width: 640, height: 480, colorMatrix: undefined, fullRange: undefined, downSeconds: 2.5 },
    ]);
  });

  it('adds the time of an outage as it goes, at each retry, and the rest when frames come again', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const { listener, calls } = observed();
      listener.failed?.(new Error('Connection refused'), 500);
      jest.advanceTimersByTime(500);
      listener.failed?.(new Error('Connection refused'), 30_000);
      jest.advanceTimersByTime(30_000);
      listener.failed?.(new Error('Connection refused'), 30_000);
      expect(calls.filter((call) => call.startsWith('down'))).toEqual(['down 0.5', 'down 30']);
      jest.advanceTimersByTime(2000);
      listener.streaming?.({ width: 640, height: 480, downSeconds: 32.5 });
      jest.advanceTimersByTime(60_000);
      listener.failed?.(new Error('Connection refused'), 500);
      expect(calls.filter((call) => call.startsWith('down'))).toEqual(['down 0.5', 'down 30', 'down 2']);
      // The clock set back two minutes during an outage (NTP): no time goes negative.
      jest.advanceTimersByTime(1000);
      jest.setSystemTime(Date.now() - 120_000);
      listener.failed?.(new Error('Connection refused'), 1000);
      expect(calls.at(-1)).toBe('down 1');
    } finally {
      jest.useRealTimers();
    }
  });

  it('marks a failed source down and counts its restart, logging the error; an ended one is down without a restart', () => {
    const { listener, lines, calls } = observed();

    listener.failed?.(new Error('camera unplugged'), 1000);
    listener.ended?.();

    expect(calls).toEqual(['up 0', 'restart', 'up 0']);
    expect(lines.map(({ level, msg, retryInMs }) => ({ level, msg, retryInMs }))).toEqual([
      { level: 50, msg: 'source failed: camera unplugged; retrying', retryInMs: 1000 },
      { level: 30, msg: 'source ended (a file plays once with CAPTURE_LOOP=false): no more frames until a twin change switches it', retryInMs: undefined },
    ]);
    expect(lines[0].err).toMatchObject({ message: 'camera unplugged' });
  });

  it('logs a source that keeps failing once, when the reason changes and every tenth attempt, not at every retry', () => {
    const { listener, lines, calls } = observed();

    for (let attempt = 1; attempt <= 25; attempt++) listener.failed?.(new Error('Connection refused'), 30_000);
    listener.failed?.(new Error('401 Unauthorized'), 30_000);
    listener.streaming?.({ width: 640, height: 480, downSeconds: 780 });
    listener.failed?.(new Error('Connection refused'), 500);

    expect(calls.filter((call) => call === 'restart')).toHaveLength(27);
    expect(lines.map(({ msg }) => msg)).toEqual([
      'source failed: Connection refused; retrying',
      'source failed: Connection refused; retrying (attempt 10; logged again when the reason changes or every tenth attempt)',
      'source failed: Connection refused; retrying (attempt 20; logged again when the reason changes or every tenth attempt)',
      'source failed: 401 Unauthorized; retrying (attempt 26; logged again when the reason changes or every tenth attempt)',
      'source streaming',
      'source failed: Connection refused; retrying',
    ]);
  });

  it('counts every failed attempt of a pending switch, logged or not, and leaves the running source up', () => {
    const { listener, lines, calls } = observed();

    for (let attempt = 1; attempt <= 12; attempt++) listener.switchFailed?.(new Error('Connection refused'), 30_000, attempt);

    expect(calls).toEqual(Array(12).fill('switch failed'));
    expect(lines.map(({ level, attempt }) => ({ level, attempt }))).toEqual([
      { level: 40, attempt: 1 },
      { level: 40, attempt: 10 },
    ]);
  });
});
