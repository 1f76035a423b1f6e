// Module processes side by side, as `npm start` and the edge simulator run them: each in its own process group,
// their output merged into one console with a `[name]` prefix (pino JSON lines shown as `LEVEL msg`), the first
// to exit on its own stopping the rest, and nothing left behind (grandchildren such as ffmpeg included).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** IoT Edge's line format (LOG_FORMAT=iotedge, the modules' default under IoT Edge): `<6> 2026-12-03 06:00:00.000 +00:00 [INF] - msg`. */
const IOTEDGE_LINE = /^<\d> \S+ \S+ \S+ \[(VRB|DBG|INF|WRN|ERR|FTL)\] - (.*)$/;
const IOTEDGE_LEVELS = { VRB: 'TRACE', DBG: 'DEBUG', INF: 'INFO', WRN: 'WARN', ERR: 'ERROR', FTL: 'FATAL' };

/** A pino JSON or IoT Edge log line as `LEVEL msg[: error]`; any other line as it is. LOG_FORMAT=json keeps raw JSON. */
export function formatLogLine(line, rawJson = process.env.LOG_FORMAT === 'json') {
  const iotedge = IOTEDGE_LINE.exec(line);
  if (iotedge) return `${IOTEDGE_LEVELS[iotedge[1]]} ${iotedge[2]}`;
  if (rawJson || !line.startsWith('{')) return line;
  try {
    const log = JSON.parse(line);
    if (typeof log.msg !== 'string') return line;
    return `${LEVELS[log.level] ?? log.level} ${log.msg}${log.err?.message && !log.msg.includes(log.err.message) ? `: ${log.err.message}` : ''}`;
  } catch {
    return line; // not a log object
  }
}

/** Prints `[name] line` with names padded to the longest of `names`, on every line of a message of several (a configuration error's list). */
export function createPrinter(names, { rawJson, write = (text) => process.stdout.write(text) } = {}) {
  const pad = Math.max(0, ...names.map((name) => name.length));
  return (name, line) => write(formatLogLine(line, rawJson).split('\n').map((text) => `[${name.padEnd(pad)}] ${text}\n`).join(''));
}

/** runModule's line once a module has started (`capture started`), as formatLogLine shows it, whatever LOG_FORMAT. */
const STARTED_LINE = /^INFO \S+ started$/;

/**
 * Tells the modules their log lines are shown here as text, so a failure is not printed twice (runModule's
 * LOGS_SHOWN_BY_LAUNCHER, libs/service-runtime/src/lib/run-module.ts).
 */
const LOGS_SHOWN_BY_LAUNCHER = 'IEV_LOGS_SHOWN_BY_LAUNCHER';

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Starts `specs` ({ name, args, env, cwd, command = node }) and returns { children, stop(signal), done, started }, `done`
 * resolving with an exit code for the launcher once all have exited: 0, or the code of the one that exited first;
 * `started` once every one has logged that it started (never, when one fails first).
 */
export function runProcessGroup(specs, { print, killAfterMs = 10_000 } = {}) {
  const children = new Map();
  let stopping = false;
  let exitCode = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const starting = new Set(specs.map(({ name }) => name));
  let resolveStarted;
  const started = new Promise((resolve) => (resolveStarted = resolve));
  const noteStarted = (name, line) => {
    if (stopping || !starting.has(name) || !STARTED_LINE.test(formatLogLine(line, false))) return;
    starting.delete(name);
    if (starting.size === 0) resolveStarted();
  };
  const finish = () => {
    if (children.size === 0) resolveDone(exitCode);
  };

  function stop(signal = 'SIGTERM') {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill(signal);
    // A module that ignores the signal does not hold the launcher forever.
    setTimeout(() => {
      for (const child of children.values()) killGroup(child.pid, 'SIGKILL');
    }, killAfterMs).unref();
    finish();
  }

  for (const { name, args, env = process.env, cwd, command = process.execPath } of specs) {
    // Own process group: a terminal's Ctrl-C reaches only the launcher, which then signals each module once.
    const child = spawn(command, args, { cwd, env: { ...env, [LOGS_SHOWN_BY_LAUNCHER]: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(name, child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        print(name, line);
        noteStarted(name, line);
      });
    }
    const exited = (code, signal, error) => {
      if (!children.has(name)) return;
      children.delete(name);
      // Whatever the module started and left behind (an ffmpeg, say) shares its group: take it down too.
      killGroup(child.pid, 'SIGKILL');
      if (!stopping) {
        print(name, `exited (${error ? error.message : signal ?? `code ${code}`}): stopping the others`);
        exitCode = code || 1;
        stop('SIGTERM');
      }
      finish();
    };
    child.on('exit', (code, signal) => exited(code, signal));
    child.on('error', (error) => exited(null, null, error)); // could not start at all
  }
  // If the launcher dies some other way, take the modules with it.
  process.on('exit', () => {
    for (const child of children.values()) killGroup(child.pid, 'SIGKILL');
  });
  if (specs.length === 0) finish();
  return { children, stop, done, started };
}
