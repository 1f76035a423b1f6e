import { RepeatedFailureFilter } from './repeated-failure-filter';

/** The attempts, from 1 to `upTo`, that the filter lets through, with the cause each attempt fails with. */
function saidAttempts(filter: RepeatedFailureFilter, upTo: number, causeAt: (attempt: number) => string | undefined): number[] {
  const said: number[] = [];
  for (let attempt = 1; attempt <= upTo; attempt++) if (filter.worthSaying(attempt, causeAt(attempt))) said.push(attempt);
  return said;
}

describe('RepeatedFailureFilter', () => {
  it('says the first failure and every tenth of one that goes on', () => {
    expect(saidAttempts(new RepeatedFailureFilter(), 35, () => 'connection refused')).toEqual([1, 10, 20, 30]);
  });

  it('says a failure whose cause differs from the attempt before, and the next that differs again', () => {
    const causeAt = (attempt: number) => (attempt >= 4 && attempt <= 6 ? 'timed out' : 'connection refused');
    expect(saidAttempts(new RepeatedFailureFilter(), 12, causeAt)).toEqual([1, 4, 7, 10]);
  });

  it('with no cause, goes by the attempt alone', () => {
    expect(saidAttempts(new RepeatedFailureFilter(), 20, () => undefined)).toEqual([1, 10, 20]);
  });

  it('says the first failure after a success, though its cause is the one before', () => {
    const filter = new RepeatedFailureFilter();
    saidAttempts(filter, 3, () => 'connection refused');
    expect(saidAttempts(filter, 3, () => 'connection refused')).toEqual([1]);
  });
});
