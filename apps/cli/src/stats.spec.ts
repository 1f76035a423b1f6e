import { summarize } from './stats';

describe('summarize', () => {
  it('gives the median and nearest-rank p90', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ medianMs: 3, p90Ms: 5, count: 5 });
    expect(summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ medianMs: 5.5, p90Ms: 9, count: 10 });
  });

  it('reports an empty sample as NaN rather than zero', () => {
    expect(summarize([]).medianMs).toBeNaN();
  });
});
