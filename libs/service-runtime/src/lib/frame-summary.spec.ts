import { Writable } from 'node:stream';
import pino from 'pino';
import { FrameSummary } from './frame-summary';

function recordingLogger() {
  const lines: Array<Record<string, unknown> & { msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('FrameSummary', () => {
  let clock = 0;
  const now = () => clock;

  it('sums an interval into one line: frames, fps, boxes, skips and mean time', async () => {
    const { logger, lines } = recordingLogger();
    const summary = new FrameSummary({ logger, intervalMs: 3_600_000, now });
    clock = 1000;
    summary.frame({ sourceId: 'camera0', sequence: 10, boxes: 20, seconds: 0.1 });
    summary.frame({ sourceId: 'camera0', sequence: 11, boxes: 30, seconds: 0.2 });
    summary.frame({ sourceId: 'camera0', sequence: 15, boxes: 25, seconds: 0.3 });
    summary.frame({ sourceId: 'camera1', sequence: 1, boxes: 5, seconds: 0.2 });
    clock = 11_000;
    summary.flush();
    summary.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toBe('frames: 4 in 11.0 s (0.4 fps), boxes: 80 (20.0 a frame), skipped: 3, time taken: 0.200 s a frame');
    expect(lines[0]).toMatchObject({ frames: 4, fps: 0.36, boxes: 80, skipped: 3, meanSeconds: 0.2 });
  });

  it('says how many boxes were left out in ignore regions, where any were', async () => {
    const { logger, lines } = recordingLogger();
    const summary = new FrameSummary({ logger, intervalMs: 3_600_000, now });
    clock += 10_000;
    summary.frame({ sourceId: 'camera0', sequence: 1, boxes: 4, ignored: 1, seconds: 0.1 });
    summary.frame({ sourceId: 'camera0', sequence: 2, boxes: 4, ignored: 1, seconds: 0.1 });
    summary.flush();
    summary.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0].msg).toBe('frames: 2 in 10.0 s (0.2 fps), boxes: 8 (4.0 a frame), ignored: 2 (in ignore regions), skipped: 0, time taken: 0.100 s a frame');
    expect(lines[0]).toMatchObject({ boxes: 8, ignored: 2 });
  });

  it('says once that no frames came, then nothing until they come back', async () => {
    const { logger, lines } = recordingLogger();
    const summary = new FrameSummary({ logger, intervalMs: 3_600_000, now });
    clock += 10_000;
    summary.flush();
    clock += 10_000;
    summary.flush();
    summary.frame({ sourceId: 'camera0', sequence: 1, boxes: 1, seconds: 0.1 });
    clock += 10_000;
    summary.flush();
    summary.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => line.msg)).toEqual(['no frames in the last 10.0 s', 'frames: 1 in 10.0 s (0.1 fps), boxes: 1 (1.0 a frame), skipped: 0, time taken: 0.100 s a frame']);
  });
});
