// Module processes side by side, as `npm start` and the edge simulator run them: each in its own process group,
// their output merged into one console with a `[name]` prefix (pino JSON lines shown as `LEVEL msg`), the first
// to exit on its own stopping the rest (one failing to start: once every other one has started or failed, so that
// one run shows all their start-up errors), and nothing left behind (grandchildren such as ffmpeg included).
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

/** The preview's `preview on <address>` line, whatever LOG_FORMAT (iotedge's adds the fields after it). */
const PREVIEW_ADDRESS_LINE = /^INFO preview on (https?:\/\/\S+)/;

/**
 * The address the preview says it listens on, from one of its log lines; undefined for any other line. Its own, not
 * one made from PREVIEW_PORT and PREVIEW_HOST: port 0 picks a free one, and an IPv6 host needs brackets.
 */
export function previewAddress(line) {
  return PREVIEW_ADDRESS_LINE.exec(formatLogLine(line, false))?.[1];
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
 * A module that exits before it has logged that it started (its configuration refused, a port taken) stops the others
 * only once each has given its own start-up verdict, started (stopped at once then) or failed too: one run shows every
 * module's start-up errors, each module checking its own configuration. Those still starting `startUpWaitMs` after
 * that first failure are stopped all the same (a start line never logged under LOG_LEVEL=warn, a start that takes
 * minutes). A module that exits after it started stops the others at once.
 */
export function runProcessGroup(specs, { print, killAfterMs = 10_000, startUpWaitMs = 20_000 } = {}) {
  const children = new Map();
  // Each module is signalled once: a second SIGINT or SIGTERM would force its exit (runModule).
  const signalled = new Set();
  let stopping = false;
  let startUpFailed = false;
  let exitCode = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const starting = new Set(specs.map(({ name }) => name));
  let resolveStarted;
  const started = new Promise((resolve) => (resolveStarted = resolve));
  const noteStarted = (name, line) => {
    if (stopping || !starting.has(name) || !STARTED_LINE.test(formatLogLine(line, false))) return;
    starting.delete(name);
    if (startUpFailed) stopModule(name, 'SIGTERM');
    else if (starting.size === 0) resolveStarted();
  };
  const finish = () => {
    if (children.size === 0) resolveDone(exitCode);
  };

  function stopModule(name, signal) {
    const child = children.get(name);
    if (!child || signalled.has(name)) return;
    signalled.add(name);
    child.kill(signal);
    // A module that ignores the signal does not hold the launcher forever.
    setTimeout(() => {
      if (children.get(name) === child) killGroup(child.pid, 'SIGKILL');
    }, killAfterMs).unref();
  }

  function stop(signal = 'SIGTERM') {
    if (stopping) return;
    stopping = true;
    for (const name of children.keys()) stopModule(name, signal);
    finish();
  }

  /** The first failure during start-up: the modules that have started stop now, the others once they have too. */
  function failedDuringStartUp(name, how) {
    if (startUpFailed) {
      print(name, `exited (${how}) during start-up`);
      return;
    }
    startUpFailed = true;
    if (starting.size === 0) {
      print(name, `exited (${how}) during start-up: stopping the others`);
      stop('SIGTERM');
      return;
    }
    print(name, `exited (${how}) during start-up: stopping the others, each once it has started or failed (${[...starting].join(', ')} still starting)`);
    for (const other of children.keys()) if (!starting.has(other)) stopModule(other, 'SIGTERM');
    setTimeout(() => {
      if (stopping) return;
      for (const other of starting) print(other, `still starting ${startUpWaitMs / 1000} s after ${name} failed: stopping it`);
      stop('SIGTERM');
    }, startUpWaitMs).unref();
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
      const duringStartUp = starting.delete(name);
      if (!stopping && !signalled.has(name)) {
        const how = error ? error.message : signal ?? `code ${code}`;
        if (exitCode === 0) exitCode = code || 1;
        if (duringStartUp) {
          failedDuringStartUp(name, how);
        } else {
          print(name, `exited (${how}): stopping the others`);
          stop('SIGTERM');
        }
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
