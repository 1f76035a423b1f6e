/** Median and 90th percentile (nearest rank) of a sample. */
export function summarize(values: readonly number[]): { medianMs: number; p90Ms: number; count: number } {
  if (values.length === 0) return { medianMs: NaN, p90Ms: NaN, count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { medianMs: median, p90Ms: rank(0.9), count: sorted.length };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
