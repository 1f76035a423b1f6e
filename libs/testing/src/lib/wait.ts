import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Only turns a hang into a readable failure: nothing asserts on how long it took. */
  timeoutMs?: number;
  /** Between two looks. */
  intervalMs?: number;
}

/**
 * Looks until `read` returns (or resolves to) something other than undefined, and returns it; fails after the
 * timeout naming `what` (a function, to describe the state at that moment).
 */
export async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, what: string | (() => string), { timeoutMs = 15_000, intervalMs = 10 }: WaitOptions = {}): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(intervalMs);
  }
}

/** Looks until `condition` holds (see eventually). */
export async function waitUntil(condition: () => boolean, what: string | (() => string), options?: WaitOptions): Promise<void> {
  await eventually(() => (condition() ? true : undefined), what, options);
}
