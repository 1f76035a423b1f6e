import { eventually, waitUntil } from './wait';

describe('eventually / waitUntil', () => {
  it('returns the first value that is not undefined', async () => {
    let calls = 0;
    expect(await eventually(() => (++calls === 3 ? 'ready' : undefined), 'the third look', { intervalMs: 1 })).toBe('ready');
    expect(calls).toBe(3);
  });

  it('waits on an asynchronous look too', async () => {
    let calls = 0;
    expect(await eventually(async () => (++calls === 2 ? calls : undefined), 'the second answer', { intervalMs: 1 })).toBe(2);
  });

  it('fails naming what it waited for, described when it gives up', async () => {
    let state = 'starting';
    const waiting = waitUntil(() => false, () => `the service (still ${state})`, { timeoutMs: 50, intervalMs: 5 });
    state = 'stuck';
    await expect(waiting).rejects.toThrow('timed out waiting for the service (still stuck)');
  });
});
