import type { EventEmitter } from 'node:events';

/**
 * Resolves with what `check` finds, looking now and at each `event`; rejects after the timeout, naming `what`
 * (described at that moment).
 */
export function waitForEvent<T>(emitter: EventEmitter, event: string, check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const done = check();
  if (done !== undefined) return Promise.resolve(done);
  return new Promise((resolve, reject) => {
    const listener = () => {
      const value = check();
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, listener);
    };
    emitter.on(event, listener);
  });
}
