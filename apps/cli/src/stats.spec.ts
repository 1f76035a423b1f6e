import { medianOf, percentiles, summarize } from './stats';

describe('summarize', () => {
  it('gives the median and nearest-rank p90', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ medianMs: 3, p90Ms: 5, count: 5 });
    expect(summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ medianMs: 5.5, p90Ms: 9, count: 10 });
  });

  it('reports an empty sample as NaN rather than zero', () => {
    expect(summarize([]).medianMs).toBeNaN();
  });
});

describe('percentiles', () => {
  it('takes p50, p90 and p99 by nearest rank, whatever the order of the sample', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(oneToHundred)).toEqual({ p50: 50, p90: 90, p99: 99 });
    // 1,000 values: the 990th is p99, so one slow frame in a hundred shows.
    const mostlyFast = [...Array.from({ length: 985 }, () => 10), ...Array.from({ length: 15 }, () => 500)];
    expect(percentiles(mostlyFast)).toEqual({ p50: 10, p90: 10, p99: 500 });
  });

  it('gives a small sample its largest value as p99 and a single value for all three', () => {
    expect(percentiles([3, 1, 2])).toEqual({ p50: 2, p90: 3, p99: 3 });
    expect(percentiles([7])).toEqual({ p50: 7, p90: 7, p99: 7 });
  });

  it('reports an empty sample as NaN', () => {
    expect(percentiles([]).p99).toBeNaN();
  });
});

describe('medianOf', () => {
  it('averages the middle two of an even sample', () => {
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
  });
});
