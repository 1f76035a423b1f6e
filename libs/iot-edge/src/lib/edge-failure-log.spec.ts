import { EdgeFailureLog, type EdgeFailureLevel, type EdgeFailureSeen } from './edge-failure-log';

/** The level of each failure in turn, through one log. */
function levelsOf(seen: EdgeFailureSeen[]): EdgeFailureLevel[] {
  const log = new EdgeFailureLog();
  return seen.map((failure) => log.levelOf(failure));
}
const waiting = (attempt: number, cause?: string): EdgeFailureSeen => ({ awaitingFirstConnection: true, attempt, cause });
const failed = (attempt: number, cause?: string): EdgeFailureSeen => ({ awaitingFirstConnection: false, attempt, cause });

describe('EdgeFailureLog', () => {
  it('says the wait for the first connection once, at info, however many other failures come between', () => {
    expect(levelsOf([waiting(1, 'refused'), waiting(2, 'refused'), failed(3, 'timed out'), waiting(4, 'refused'), waiting(5, 'refused')])).toEqual([
      'info',
      'debug',
      'warn',
      'debug',
      'debug',
    ]);
  });

  it('warns at the first failure after the wait though nothing else is new: the cause the wait had, or none', () => {
    // EdgeModule once firstConnectionGraceMs is over, edgeHub still not there; the upstream sends, which give no cause.
    expect(levelsOf([waiting(1, 'refused'), waiting(2, 'refused'), failed(3, 'refused'), failed(4, 'refused')])).toEqual(['info', 'debug', 'warn', 'debug']);
    expect(levelsOf([waiting(1), waiting(2), failed(3), failed(4)])).toEqual(['info', 'debug', 'warn', 'debug']);
    // A wait between two failures of one cause.
    expect(levelsOf([failed(1, 'timed out'), failed(2, 'timed out'), waiting(3, 'refused'), failed(4, 'timed out'), failed(5, 'timed out')])).toEqual([
      'warn',
      'debug',
      'info',
      'warn',
      'debug',
    ]);
  });

  it('warns at the first failure since a success, at another cause and every tenth attempt; the rest at debug', () => {
    const outage = Array.from({ length: 21 }, (_, index) => failed(index + 1, index + 1 === 5 ? 'timed out' : 'refused'));
    const levels = levelsOf([...outage, failed(1, 'refused'), failed(2, 'refused')]);

    expect(levels.flatMap((level, index) => (level === 'warn' ? [index + 1] : []))).toEqual([1, 5, 6, 10, 20, 22]);
    expect(levels.filter((level) => level !== 'warn' && level !== 'debug')).toEqual([]);
  });
});
