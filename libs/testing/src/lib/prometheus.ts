/** Each metric in Prometheus text with its samples added up over their label sets; comments are skipped. */
export function metricSums(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? (\S+)$/.exec(line);
    if (sample) sums.set(sample[1], (sums.get(sample[1]) ?? 0) + Number(sample[2]));
  }
  return sums;
}
