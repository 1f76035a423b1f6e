/**
 * Which of a run of failed attempts are worth saying, so a long outage (a camera unplugged for a day, edgeHub gone)
 * does not flood the log while news still shows: the first since the last success, one whose cause is not the previous
 * attempt's, and every tenth. Whoever retries keeps the count, and picks the level and the words.
 */
export class RepeatedFailureFilter {
  private lastCause: string | undefined;

  /**
   * attempt: failed attempts in a row, this one included (1: the first since the last success, or since start).
   * cause: the failure in words, compared with the previous attempt's; unset, only the attempt tells.
   */
  worthSaying(attempt: number, cause?: string): boolean {
    const causeChanged = cause !== this.lastCause;
    this.lastCause = cause;
    return attempt === 1 || causeChanged || attempt % 10 === 0;
  }
}
