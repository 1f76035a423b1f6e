// What the soak reads of running modules: resident memory from /proc (Linux), and values from their Prometheus
// text, so it measures the processes themselves rather than what they say about themselves.
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size in bytes, or undefined once the process is gone. */
export function residentBytes(pid) {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** The direct children of `parentPid` whose command line runs `dist/apps/<name>/main.js`, by name. */
export function moduleProcesses(parentPid) {
  const found = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the command (field 2) may hold spaces, so split after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const name = /dist\/apps\/([^/]+)\/main\.js/.exec(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))?.[1];
      if (name) found[name] = Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The sum of a metric's samples in Prometheus text (all label sets), or undefined when it is absent. */
export function metricValue(text, name) {
  let total;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`).exec(line);
    if (match) total = (total ?? 0) + Number(match[1]);
  }
  return total;
}

/** How much `series` grew from the first sample at or after `fromMs` to the last, in percent. */
export function growthPercent(series, fromMs) {
  const start = series.find((sample) => sample.atMs >= fromMs);
  const end = series.at(-1);
  if (!start || !end || start === end) return undefined;
  return ((end.value - start.value) / start.value) * 100;
}
