import { isIPv6 } from 'node:net';
import { maskCredentials } from './credentials';

/**
 * Start-up configuration from environment variables. Every variable is parsed and validated before a
 * service starts; all problems are reported at once, each naming its variable.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export type EnvSource = Record<string, string | undefined>;

/** Parses one variable's raw text; throws an Error whose message says what was expected. */
export interface EnvVar<T> {
  names: readonly string[];
  /** env.* variables read the text without surrounding whitespace (see `variable`). */
  parse(raw: string): T;
  /** A function computes the fallback from the same environment (e.g. a default that depends on LISTEN_HOST). */
  fallback: T | ((source: EnvSource) => T) | undefined;
  /** Unset and required is an error; unset and optional reads as the fallback (possibly undefined). */
  required: boolean;
  description: string;
  /** A secret (a key): its refusal says what is wrong without the value. */
  secret?: boolean;
}

type Parser<T> = (raw: string) => T;

/**
 * Every env.* parser gets the text trimmed: a deployment manifest's `"/dev/video0 "` means /dev/video0, and a value of
 * only whitespace reads as an empty one. Here, not in readConfig, so twins' desired properties read the same.
 */
function variable<T>(names: string | readonly string[], parse: Parser<T>, description: string, fallback?: T | ((source: EnvSource) => T)): EnvVar<T> {
  return { names: typeof names === 'string' ? [names] : names, parse: (raw) => parse(raw.trim()), fallback, required: fallback === undefined, description };
}

/** A variable that may be left unset, reading as undefined. */
export function optional<T>(variable: EnvVar<T>): EnvVar<T | undefined> {
  return { ...variable, required: false };
}

/** The bounds a number must keep to, both included. */
interface Range {
  min: number;
  max: number;
}

/** What a number's error says about its range: `must be a number from 0 to 1000`; nothing when it has none. */
const inWords = (range: Range | undefined) => (range ? ` from ${range.min} to ${range.max}` : '');

export const env = {
  string: (names: string | readonly string[], fallback?: string) =>
    variable(names, (raw) => {
      if (raw === '') throw new Error('must not be empty');
      return raw;
    }, 'a string', fallback),

  integer: (names: string | readonly string[], range?: Range, fallback?: number) =>
    variable(names, (raw) => {
      const value = Number(raw);
      const { min, max } = range ?? { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
      if (!/^[-+]?\d+$/.test(raw) || value < min || value > max) throw new Error(`must be an integer${inWords(range)}`);
      return value;
    }, 'an integer', fallback),

  number: (names: string | readonly string[], range?: Range, fallback?: number) =>
    variable(names, (raw) => {
      const value = Number(raw);
      const { min, max } = range ?? { min: -Infinity, max: Infinity };
      // Decimal only: Number() also reads 0x10 and 0b11, which nobody means for a threshold or a frame rate.
      if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) || !Number.isFinite(value) || value < min || value > max) {
        throw new Error(`must be a number${inWords(range)}`);
      }
      return value;
    }, 'a number', fallback),

  /** true/false, 1/0, yes/no, on/off in any case: the original sample used USE_TENSOR_RT=True. */
  boolean: (names: string | readonly string[], fallback?: boolean) =>
    variable(names, (raw) => {
      const text = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      throw new Error('must be true or false');
    }, 'a boolean', fallback),

  oneOf: <const T extends string>(names: string | readonly string[], choices: readonly T[], fallback?: T) =>
    variable(names, (raw) => {
      const text = raw.toLowerCase() as T;
      if (!choices.includes(text)) throw new Error(`must be one of ${choices.join(', ')}`);
      return text;
    }, `one of ${choices.join('|')}`, fallback),

  /** A ZeroMQ endpoint: tcp://host:port (an IPv6 address in brackets, tcp://[::1]:5555) or ipc://path. */
  endpoint: (names: string | readonly string[], fallback?: string | ((source: EnvSource) => string)) =>
    variable(names, (raw) => {
      if (!isEndpoint(raw)) throw new Error('must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555, tcp://[::1]:5555 or ipc:///tmp/frames.sock');
      return raw;
    }, 'a ZeroMQ endpoint', fallback),

  /** One or more ZeroMQ endpoints, comma-separated, none twice (a peer per endpoint, e.g. one capture per camera). */
  endpoints: (names: string | readonly string[], fallback?: string[]) =>
    variable(names, (raw) => {
      const list = raw.split(',').map((part) => part.trim());
      const bad = list.filter((text) => !isEndpoint(text));
      if (bad.length > 0) {
        throw new Error(`must be ZeroMQ endpoints separated by commas, such as tcp://capture0:5555,tcp://capture1:5555; not endpoints: ${bad.map((text) => JSON.stringify(text)).join(', ')}`);
      }
      assertEachOnce(list, 'endpoint');
      return list;
    }, 'ZeroMQ endpoints, comma-separated', fallback),
};

/**
 * For a comma-separated list variable's parse: its entries, trimmed. An empty one (`a,,b`, a trailing comma) is refused
 * naming its place, as an empty value is: it is most likely an entry left out (a template's unset variable), not one
 * meant to be skipped.
 */
export function commaSeparated(raw: string): string[] {
  const entries = raw.split(',').map((entry) => entry.trim());
  const empty = entries.flatMap((entry, index) => (entry === '' ? [index + 1] : []));
  if (empty.length > 0) throw new Error(`must not have empty entries: ${empty.length === 1 ? 'entry' : 'entries'} ${empty.join(', ')} of ${entries.length} ${empty.length === 1 ? 'is' : 'are'} empty`);
  return entries;
}

/** For a list variable's parse: throws, naming the items given more than once, unless each is given once. */
export function assertEachOnce(items: readonly string[], what: string): void {
  const repeated = items.filter((item, index) => items.indexOf(item) !== index);
  if (repeated.length > 0) throw new Error(`must name each ${what} once; repeated: ${[...new Set(repeated)].join(', ')}`);
}

/** Where a module listens: a host (an address, a name, or a wildcard such as `*` or `0.0.0.0`) and a port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The host and tcp port a ZeroMQ endpoint (env.endpoint) binds; undefined for ipc://, which takes none. */
export function endpointAddress(endpoint: string): ListenAddress | undefined {
  const tcp = /^tcp:\/\/(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(endpoint);
  return tcp ? { host: tcp[1] ?? tcp[2], port: Number(tcp[3]) } : undefined;
}

/** Hosts that listen on every address, so on any port another of the module's listens takes. */
const EVERY_ADDRESS = new Set(['*', '0.0.0.0', '::', '']);

/**
 * Throws a ConfigError naming each two of a module's own listening addresses (by the variable that chose it;
 * undefined for one on no port) that take the same port on the same host, or on every address: the second listen
 * would otherwise fail as "already in use; another instance may be running", when the module itself holds the port.
 * 0 (any free port) is never the same; hosts are compared as written.
 */
export function assertOwnPorts(addresses: Record<string, ListenAddress | undefined>): void {
  const named = Object.entries(addresses).flatMap(([name, address]) => (address && address.port !== 0 ? [{ name, ...address }] : []));
  const clash = (a: ListenAddress, b: ListenAddress) => a.port === b.port && (a.host === b.host || EVERY_ADDRESS.has(a.host) || EVERY_ADDRESS.has(b.host));
  const problems = named.flatMap((a, index) =>
    named.slice(index + 1).flatMap((b) => (clash(a, b) ? [`${a.name} and ${b.name} are both port ${a.port}: each needs a port of its own`] : [])),
  );
  if (problems.length > 0) throw new ConfigError(problems);
}

function isEndpoint(text: string): boolean {
  const tcp = /^tcp:\/\/(?:\[([^\]]+)\]|[^:/[\]\s]+):(\d{1,5})$/.exec(text);
  if (!tcp) return /^ipc:\/\/\S+$/.test(text);
  const [, ipv6, port] = tcp;
  // Port 0 binds a port nobody is told of; ZeroMQ wraps one above 65535 (99999 listens on 34463).
  return (ipv6 === undefined || isIPv6(ipv6)) && Number(port) >= 1 && Number(port) <= 65535;
}

/**
 * Runs each configuration reader, then throws one ConfigError with all their problems: a bad variable one reader
 * reads hides none that another reads. Errors other than ConfigError are thrown as they come.
 */
export function readTogether<T extends unknown[]>(...readers: { [K in keyof T]: () => T[K] }): T {
  const problems: string[] = [];
  const values = readers.map((read) => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return values as T;
}

/** Variables by config key; module twins' desired properties use the same specs. */
export type EnvSpec = Record<string, EnvVar<unknown>>;
export type ConfigOf<S extends EnvSpec> = { [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/** Reads every variable of a spec; throws one ConfigError listing every bad or missing variable. */
export function readConfig<S extends EnvSpec>(spec: S, source: EnvSource = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(spec)) {
    const name = variable.names.find((candidate) => source[candidate] !== undefined);
    if (name === undefined) {
      if (variable.required) problems.push(`${variable.names[0]} is required (${variable.description})`);
      else config[key] = typeof variable.fallback === 'function' ? (variable.fallback as (source: EnvSource) => unknown)(source) : variable.fallback;
      continue;
    }
    try {
      config[key] = variable.parse(source[name] as string);
    } catch (error) {
      // Quoted as given, but for a password in a URL (a HEALTH_URLS entry, a camera's) and a secret's whole value.
      const got = variable.secret ? 'a value not shown: it is a secret' : JSON.stringify(maskCredentials(source[name] as string));
      problems.push(`${name} ${(error as Error).message} (got ${got})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<S>;
}

/**
 * The address a module listens on when its env names none (frames, detections, metrics and health): LISTEN_HOST,
 * else 127.0.0.1, so `npm start` serves nothing to the LAN by accident. The module images set LISTEN_HOST=0.0.0.0:
 * inside a container the other modules, Docker's port mappings and the health check reach it from outside.
 * An IPv6 address is given bare, as HTTP listens take it (`::` listens on IPv6 and IPv4 alike, `::1`).
 */
export function listenHost(source: EnvSource = process.env): string {
  const host = source['LISTEN_HOST']?.trim() || '127.0.0.1';
  // It goes into tcp:// endpoints and HTTP listens: a name, an IPv4 or an IPv6 address, nothing ZeroMQ would misread.
  if (!/^[A-Za-z0-9.*_-]+$/.test(host) && !isIPv6(host)) {
    throw new ConfigError([`LISTEN_HOST must be a host name, an IPv4 address such as 0.0.0.0 or an IPv6 address such as :: (got ${JSON.stringify(source['LISTEN_HOST'])})`]);
  }
  return host;
}

/** A ZeroMQ bind endpoint on listenHost(), an IPv6 address in brackets: the default of FRAMES_BIND / DETECTIONS_BIND. */
export const bindOnListenHost = (port: number) => (source: EnvSource) => {
  const host = listenHost(source);
  return `tcp://${isIPv6(host) ? `[${host}]` : host}:${port}`;
};
