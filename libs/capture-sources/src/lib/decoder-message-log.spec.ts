import pino from 'pino';
import { loggedDecoderMessages } from './decoder-message-log';

const INTERVAL_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  let counted = 0;
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const listener = loggedDecoderMessages(logger, () => counted++, INTERVAL_MS);
  return { listener, lines, counted: () => counted };
}

describe('loggedDecoderMessages', () => {
  it('counts every message, logs the first at once and those within the interval as one line when it is over', async () => {
    const { listener, lines, counted } = logged();

    listener('corrupt decoded frame in stream 0');
    for (const reference of [4, 5, 6]) listener(`Reference ${reference} >= 4`);

    expect(counted()).toBe(4);
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([{ level: 40, msg: 'decoder: corrupt decoded frame in stream 0' }]);
    await sleep(INTERVAL_MS + 100);
    expect(lines.slice(1).map(({ level, msg, decoderMessages }) => ({ level, msg, decoderMessages }))).toEqual([
      { level: 40, msg: 'decoder: 3 more messages since the last; the latest: Reference 6 >= 4', decoderMessages: 3 },
    ]);
  });

  it('logs nothing more for a quiet interval, and the next message at once after one', async () => {
    const { listener, lines } = logged();

    listener('RTP: missed 3 packets');
    await sleep(INTERVAL_MS + 100);
    expect(lines).toHaveLength(1);
    listener('RTP: missed 7 packets');

    expect(lines.map(({ msg }) => msg)).toEqual(['decoder: RTP: missed 3 packets', 'decoder: RTP: missed 7 packets']);
  });

  it('after a summary, holds the next messages until an interval has passed since it', async () => {
    const { listener, lines } = logged();

    listener('first');
    listener('second');
    await sleep(INTERVAL_MS + 100);
    listener('third');

    expect(lines.map(({ msg }) => msg)).toEqual(['decoder: first', 'decoder: 1 more message since the last; the latest: second']);
    await sleep(INTERVAL_MS + 100);
    expect(lines.map(({ msg }) => msg).at(-1)).toBe('decoder: 1 more message since the last; the latest: third');
  });
});
