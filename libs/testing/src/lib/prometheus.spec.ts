import { metricSums } from './prometheus';

describe('metricSums', () => {
  it('adds up each metric over its label sets and skips comments', () => {
    const text = [
      '# HELP iev_nodejs_gc_duration_seconds Garbage collection duration by kind',
      '# TYPE iev_nodejs_gc_duration_seconds histogram',
      'iev_nodejs_gc_duration_seconds_sum{kind="minor",module="capture"} 0.25',
      'iev_nodejs_gc_duration_seconds_sum{kind="major",module="capture"} 1.5e-1',
      'iev_capture_frames_published_total{module="capture"} 42',
      'plain_metric 7',
    ].join('\n');
    const sums = metricSums(text);
    expect(sums.get('iev_nodejs_gc_duration_seconds_sum')).toBeCloseTo(0.4);
    expect(sums.get('iev_capture_frames_published_total')).toBe(42);
    expect(sums.get('plain_metric')).toBe(7);
    expect(sums.has('iev_nodejs_gc_duration_seconds')).toBe(false);
  });
});
