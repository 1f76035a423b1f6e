/** A call that did not settle in time; `what` names it in the message. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Settles like `work`, or after timeoutMs with what onTimeout returns (by default it throws a TimeoutError
 * naming `what`); the timer never outlives it. `work` itself is not cancelled.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string, onTimeout?: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      if (!onTimeout) return reject(new TimeoutError(what, timeoutMs));
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
