import type { Logger } from 'pino';
import { ConfigError } from './env';
import { createLogger } from './logger';

export interface RunningModule {
  close(): Promise<void>;
  /** Rejects when the module cannot go on (e.g. edgeHub refused its credentials): it is then stopped with the reason. */
  fatal?: Promise<unknown>;
}

/** A fatal log line, and a plain line on stderr: the first thing a person reads when a container or process dies. */
function reportFailure(logger: Logger, name: string, what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ err: error }, `${name} ${what}: ${message}`);
  process.stderr.write(`${name}: ${error instanceof ConfigError ? '' : `${what}: `}${message}\n`);
  process.exitCode = 1;
}

/**
 * Starts one module process: a bad configuration or a failed start stops it with exit code 1 and a message
 * a person can act on; SIGINT/SIGTERM close it cleanly (a second signal forces the exit).
 */
export async function runModule(name: string, start: (logger: Logger) => Promise<RunningModule>): Promise<void> {
  let logger: Logger;
  try {
    logger = createLogger(name);
  } catch (error) {
    // LOG_FORMAT / LOG_LEVEL themselves are wrong: no logger to say so, only stderr.
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  let running: RunningModule;
  try {
    running = await start(logger);
  } catch (error) {
    reportFailure(logger, name, 'start-up failed', error);
    // Whatever the failed start had opened (sockets, a model on a worker) must not keep the process alive.
    setImmediate(() => process.exit());
    return;
  }
  logger.info(`${name} started`);

  let stopping = false;
  const close = async () => {
    try {
      await running.close();
      logger.info(`${name} stopped`);
    } catch (error) {
      logger.error({ err: error }, `${name} did not stop cleanly`);
      process.exitCode = 1;
    }
    // Sockets and timers are closed; exit even if a library left a handle behind.
    setImmediate(() => process.exit());
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: stopping ${name}`);
    await close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  running.fatal?.catch(async (error: unknown) => {
    if (stopping) return;
    stopping = true;
    reportFailure(logger, name, 'stopped', error);
    await close();
  });
}
