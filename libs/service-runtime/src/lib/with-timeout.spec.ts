import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError, withTimeout } from './with-timeout';

describe('withTimeout', () => {
  it('settles like the work when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'the answer')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('no')), 1000, 'the answer')).rejects.toThrow('no');
  });

  it('rejects with a TimeoutError naming the call when the work hangs', async () => {
    const hung = new Promise<never>(() => undefined);
    const error = await withTimeout(hung, 20, 'the twin request').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('the twin request did not answer within 20 ms');
  });

  it('returns what onTimeout gives instead, when asked', async () => {
    await expect(withTimeout(sleep(200).then(() => 'late'), 20, 'x', () => 'fallback')).resolves.toBe('fallback');
  });
});
