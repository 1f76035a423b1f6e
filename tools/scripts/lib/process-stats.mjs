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

/**
 * How much `series` grew from the window of `windowMs` starting at `fromMs` to the last `windowMs`, in percent, each
 * window's median: a heap breathes between GCs by more than the growth allowed, so single samples would pass or fail
 * by where they land in that breath. Undefined when the run is too short for two windows that do not overlap.
 */
export function growthPercent(series, fromMs, windowMs) {
  const endMs = series.at(-1)?.atMs;
  if (endMs === undefined || endMs - windowMs < fromMs + windowMs) return undefined;
  const start = median(series.filter((sample) => sample.atMs >= fromMs && sample.atMs < fromMs + windowMs));
  const end = median(series.filter((sample) => sample.atMs > endMs - windowMs));
  return start === undefined || end === undefined ? undefined : ((end - start) / start) * 100;
}

function median(samples) {
  if (samples.length === 0) return undefined;
  const values = samples.map((sample) => sample.value).sort((a, b) => a - b);
  const middle = Math.floor(values.length / 2);
  return values.length % 2 === 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

/**
 * The errors the modules logged in a simulator log of JSON logs (`[inference] {"level":60,...}`): each as
 * `[module] message`, the error's own message where it has one (a start-up failure's list of bad variables). A module
 * whose LOG_* variables are refused logs on the defaults, under the simulator IoT Edge lines, which it shows as
 * `[capture  ] FATAL message`: those are quoted too.
 */
export function loggedErrors(logText) {
  const errors = [];
  for (const line of logText.split('\n')) {
    const [, module, text] = /^\[(\S+)\s*\] (?:ERROR|FATAL) (.*)$/.exec(line) ?? [];
    if (text) {
      errors.push(`[${module}] ${text}`);
      continue;
    }
    const [, jsonModule, json] = /^\[(\S+)\s*\] (\{.*\})$/.exec(line) ?? [];
    if (!json) continue;
    try {
      const entry = JSON.parse(json);
      if (entry.level >= 50) errors.push(`[${jsonModule}] ${entry.err?.message ?? entry.msg}`);
    } catch {
      // A line that only looks like JSON: not a log entry.
    }
  }
  return errors;
}
