import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { ConfigError, env, readConfig, type EnvSource } from './env';

/** Nest injection token for the module's pino logger (the one runModule creates). */
export const MODULE_LOGGER = Symbol('MODULE_LOGGER');

export interface LogConfig {
  format: 'json' | 'iotedge';
  level: pino.LevelWithSilent;
  summaryIntervalMs: number;
}

/**
 * LOG_FORMAT: `json` (pino, one object per line) or `iotedge`, the default when the module runs under IoT Edge
 * (`IOTEDGE_MODULEID` set). LOG_LEVEL: pino's levels. LOG_SUMMARY_INTERVAL: seconds between summary lines of
 * per-frame work (the frames themselves log at debug).
 */
export function readLogConfig(source: EnvSource = process.env): LogConfig {
  const config = readConfig(
    {
      format: env.oneOf('LOG_FORMAT', ['json', 'iotedge'] as const, source['IOTEDGE_MODULEID'] ? 'iotedge' : 'json'),
      level: env.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
      summarySeconds: env.integer('LOG_SUMMARY_INTERVAL', { min: 1, max: 86_400 }, 60),
    },
    source,
  );
  return { format: config.format, level: config.level, summaryIntervalMs: config.summarySeconds * 1000 };
}

/** readLogConfig's, or the defaults where a LOG_* variable is bad: the logger that says so needs one (see runModule). */
export function logConfigOrDefaults(source: EnvSource = process.env): LogConfig {
  try {
    return readLogConfig(source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return readLogConfig({ IOTEDGE_MODULEID: source['IOTEDGE_MODULEID'] });
  }
}

/** Syslog severities as IoT Edge's own modules write them (Serilog's Fatal 0, Error 3, Warning 4, Information 6, Debug/Verbose 7). */
const IOTEDGE_LEVELS: Record<number, { severity: number; name: string }> = {
  10: { severity: 7, name: 'VRB' },
  20: { severity: 7, name: 'DBG' },
  30: { severity: 6, name: 'INF' },
  40: { severity: 4, name: 'WRN' },
  50: { severity: 3, name: 'ERR' },
  60: { severity: 0, name: 'FTL' },
};

/** Fields the IoT Edge form shows in its own way, or that every line of a module has. */
const SHOWN_FIELDS = new Set(['level', 'time', 'msg', 'err', 'sourceId', 'module', 'name', 'pid', 'hostname']);
/** A field's value beyond this is cut (a stack trace): the line stays one readable line. */
const MAX_FIELD_CHARS = 200;

/**
 * One pino JSON line as IoT Edge's runtime modules write theirs, the form its log tools filter on by severity and
 * time (`iotedge logs --since`, edgeAgent's GetModuleLogs):
 * `<6> 2026-12-03 06:00:00.000 +00:00 [INF] - message (field=value, ...)`. The camera it is about (`sourceId`) goes
 * first and an error's message is appended, each when the line lacks it; the line's other fields follow in
 * brackets, as the JSON form has them (counts, ports, paths); a message of several lines (a configuration error's
 * list) stays on one, so every line carries level and time.
 */
export function formatIotEdgeLine(jsonLine: string): string {
  const log = JSON.parse(jsonLine) as { level: number; time: string; msg?: string; err?: { message?: string }; sourceId?: unknown } & Record<string, unknown>;
  const { severity, name } = IOTEDGE_LEVELS[log.level] ?? IOTEDGE_LEVELS[30];
  // isoTime is UTC: 2026-12-03T06:00:00.000Z
  const time = `${log.time.slice(0, 10)} ${log.time.slice(11, 23)} +00:00`;
  // The camera a line is about (a child logger's binding, in a module with several): the form has no fields to carry it.
  const sourceId = typeof log.sourceId === 'string' && !(log.msg ?? '').includes(log.sourceId) ? `${log.sourceId}: ` : '';
  const message = `${sourceId}${log.msg ?? ''}`;
  const error = log.err?.message && !message.includes(log.err.message) ? `: ${log.err.message}` : '';
  const fields = Object.entries(log)
    .filter(([key, value]) => !SHOWN_FIELDS.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${(typeof value === 'string' ? value : JSON.stringify(value)).slice(0, MAX_FIELD_CHARS)}`);
  const details = fields.length > 0 ? ` (${fields.join(', ')})` : '';
  return `<${severity}> ${time} [${name}] - ${`${message}${error}${details}`.replace(/\s*\n\s*/g, ' ')}\n`;
}

/** Structured logs on stdout: JSON lines, or under IoT Edge the runtime's own line format (see readLogConfig). */
export function createLogger(module: string, config = readLogConfig()): Logger {
  const options = { name: module, level: config.level, base: { module }, timestamp: pino.stdTimeFunctions.isoTime };
  const stdout = pino.destination({ fd: 1, sync: true });
  if (config.format === 'json') return pino(options, stdout);
  const iotedge: DestinationStream = { write: (line: string) => stdout.write(formatIotEdgeLine(line)) };
  return pino(options, iotedge);
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
