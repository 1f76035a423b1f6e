/** The value at quantile `q` (0 < q ≤ 1) of an ascending sample, by nearest rank. */
export function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);

function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median and 90th percentile (nearest rank) of a sample. */
export function summarize(values: readonly number[]): { medianMs: number; p90Ms: number; count: number } {
  if (values.length === 0) return { medianMs: NaN, p90Ms: NaN, count: 0 };
  const sorted = ascending(values);
  return { medianMs: median(sorted), p90Ms: nearestRank(sorted, 0.9), count: sorted.length };
}

/** The 50th, 90th and 99th percentiles (nearest rank) of a sample; NaN for an empty one. */
export function percentiles(values: readonly number[]): { p50: number; p90: number; p99: number } {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN };
  const sorted = ascending(values);
  return { p50: nearestRank(sorted, 0.5), p90: nearestRank(sorted, 0.9), p99: nearestRank(sorted, 0.99) };
}

/** Median of a sample, the middle two averaged; NaN for an empty one. */
export function medianOf(values: readonly number[]): number {
  return values.length === 0 ? NaN : median(ascending(values));
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
