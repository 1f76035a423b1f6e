import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Nest injection token for the module's pino logger (the one runModule creates). */
export const MODULE_LOGGER = Symbol('MODULE_LOGGER');

/** Structured JSON logs on stdout, one object per line, as IoT Edge's log collection expects. */
export function createLogger(module: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name: module, level, base: { module }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Routes NestJS's own log calls into the module's pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
