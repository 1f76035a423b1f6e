import type { Logger } from 'pino';
import { ConfigError } from './env';
import { createLogger } from './logger';

export interface RunningModule {
  close(): Promise<void>;
}

/**
 * Starts one module process: a bad configuration or a failed start stops it with exit code 1 and a message
 * a person can act on; SIGINT/SIGTERM close it cleanly (a second signal forces the exit).
 */
export async function runModule(name: string, start: (logger: Logger) => Promise<RunningModule>): Promise<void> {
  const logger = createLogger(name);
  let running: RunningModule;
  try {
    running = await start(logger);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: error }, `${name} failed to start: ${message}`);
    // Also a plain line on stderr: the first thing a person reads when a container or process dies at start.
    process.stderr.write(`${name}: ${error instanceof ConfigError ? '' : 'start-up failed: '}${message}\n`);
    process.exitCode = 1;
    // Whatever the failed start had opened (sockets, a model on a worker) must not keep the process alive.
    setImmediate(() => process.exit());
    return;
  }
  logger.info(`${name} started`);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: stopping ${name}`);
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
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
