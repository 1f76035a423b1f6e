import type { Logger } from 'pino';
import { ConfigError, readTogether } from './env';
import { createLogger, logConfigOrDefaults, readLogConfig } from './logger';
import { TimeoutError, withTimeout } from './with-timeout';

export interface RunningModule {
  close(): Promise<void>;
  /** Rejects when the module cannot go on (e.g. edgeHub refused its credentials): it is then stopped with the reason. */
  fatal?: Promise<unknown>;
}

/**
 * Set (to 1) by a launcher that shows its modules' log lines as text (tools/scripts/lib/process-group.mjs: `npm start`,
 * the edge simulator): there the fatal log line is what a person reads, and the plain line on stderr would repeat it.
 */
export const LOGS_SHOWN_BY_LAUNCHER = 'IEV_LOGS_SHOWN_BY_LAUNCHER';

/**
 * A fatal log line, and a plain line on stderr: the first thing a person reads when a container or process dies
 * (JSON logs are not read easily); the plain line only where no launcher shows the log line as text.
 */
function reportFailure(logger: Logger, name: string, what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ err: error }, `${name} ${what}: ${message}`);
  if (process.env[LOGS_SHOWN_BY_LAUNCHER] !== '1') process.stderr.write(`${name}: ${error instanceof ConfigError ? '' : `${what}: `}${message}\n`);
  process.exitCode = 1;
}

/**
 * Signals this soon after the one that began stopping are that one again: a terminal's Ctrl-C reaches every process of
 * its group, and a launcher (npm, `npm start`'s) passes it on once more.
 */
export const REPEATED_SIGNAL_MS = 1000;

/**
 * How long a module may take to close before it exits regardless: within Docker's (and IoT Edge's) 10 s grace, so that
 * a close stuck on something wedged (a model run that never returns) ends with a line that says so, not a SIGKILL.
 */
export const CLOSE_TIMEOUT_MS = 9_000;

/** process.execve, from Node.js 23.11 on (the modules run on 24), which @types/node 20 does not declare. */
type ExecveProcess = NodeJS.Process & { execve(file: string, args: readonly string[], env: NodeJS.ProcessEnv): never };

/**
 * Ends the process with process.exitCode. process.exit() joins the worker threads and libuv's thread pool (where the
 * TensorRT binding runs and builds), so one stuck in a native call (a model run that never returns) keeps the process,
 * its 'exit' handlers run, alive for good: a module that serves nothing and looks running. Where something may be
 * wedged (a close that did not finish, a start under way), the 'exit' handlers run and then the process's image is
 * replaced by a node that exits at once with the code (process.execve), which ends every thread. The same pid: a
 * container's pid 1 is ended so too, where a SIGKILL from inside its container is not.
 */
function exitProcess(mayBeWedged: boolean): void {
  if (mayBeWedged) process.once('exit', (code) => replaceByExit(code));
  process.exit();
}

/**
 * Node.js 24 aborts the process where execve fails; later versions throw and go on: abort then too, for a process
 * that goes on exiting would join the stuck thread after all.
 */
function replaceByExit(code: number): void {
  try {
    (process as ExecveProcess).execve(process.execPath, [process.execPath, '-e', `process.exit(${code})`], {});
  } catch {
    process.abort();
  }
}

export interface RunModuleOptions {
  /** Default CLOSE_TIMEOUT_MS. */
  closeTimeoutMs?: number;
}

/**
 * Starts one module process: readModuleConfig reads its variables (throwing a ConfigError, see readTogether) before
 * start is given them, and their problems and the LOG_* variables' are reported together. A bad configuration or a
 * failed start stops it with exit code 1 and a message a person can act on; SIGINT/SIGTERM close it cleanly, or end a
 * start still under way (a model loading, an engine building), and another signal later forces the exit, as does a
 * close that takes longer than closeTimeoutMs. The handlers are there from the start and stay: as a container's pid 1,
 * Node.js gets no signal it does not handle, so `docker stop` would otherwise wait out its grace period and kill the
 * module.
 */
export async function runModule<Config>(
  name: string,
  readModuleConfig: () => Config,
  start: (logger: Logger, config: Config) => Promise<RunningModule>,
  { closeTimeoutMs = CLOSE_TIMEOUT_MS }: RunModuleOptions = {},
): Promise<void> {
  // Bad LOG_* variables are reported (below) with the module's own problems, by a logger on the defaults.
  const logger = createLogger(name, logConfigOrDefaults());
  let running: RunningModule | undefined;
  let stoppingSince: number | undefined;
  /** afterFatal: the module gave up (a model run hung, say), so its threads may be stuck however its close went. */
  const close = async (module: RunningModule, afterFatal = false) => {
    let closed = false;
    try {
      await withTimeout(module.close(), closeTimeoutMs, `closing ${name}`);
      logger.info(`${name} stopped`);
      closed = true;
    } catch (error) {
      if (error instanceof TimeoutError) logger.error(`${name} did not stop within ${closeTimeoutMs / 1000} s: exiting all the same`);
      else logger.error({ err: error }, `${name} did not stop cleanly`);
      process.exitCode = 1;
    }
    // Sockets and timers are closed; exit even if a library left a handle behind.
    setImmediate(() => exitProcess(afterFatal || !closed));
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      logger.warn(`${signal} again: exiting now`);
      process.exitCode = 1;
      exitProcess(true);
    }
    stoppingSince = performance.now();
    if (!running) {
      // Nothing is serving yet; whatever the start has opened goes with the process. A model loading or an engine
      // building is a native call on another thread, which process.exit() would wait out (minutes).
      logger.info(`${signal} during start-up: exiting`);
      setImmediate(() => exitProcess(true));
      return;
    }
    logger.info(`${signal}: stopping ${name}`);
    void close(running);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    const [, config] = readTogether(() => readLogConfig(), readModuleConfig);
    running = await start(logger, config);
  } catch (error) {
    reportFailure(logger, name, 'start-up failed', error);
    // Whatever the failed start had opened (sockets, a model on a worker, a load still on its thread) must not keep
    // the process alive.
    setImmediate(() => exitProcess(true));
    return;
  }
  if (stoppingSince !== undefined) return;
  logger.info(`${name} started`);
  const module = running;
  module.fatal?.catch(async (error: unknown) => {
    if (stoppingSince !== undefined) return;
    stoppingSince = performance.now();
    reportFailure(logger, name, 'stopped', error);
    await close(module, true);
  });
}
