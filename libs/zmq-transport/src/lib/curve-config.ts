import { readFileSync } from 'node:fs';
import { ConfigError, readConfig, type EnvSource, type EnvVar } from '@iev/service-runtime';
import { isZ85Key } from './curve-keys';
import type { CurveOptions } from './zmq-socket';

/** The links between modules a connecting socket may secure; each has its own server key variable. */
export type CurveLink = 'FRAMES' | 'DETECTIONS';

/** A module's CURVE keys from its environment (see readCurveSettings). */
export interface CurveSettings {
  secretKey: string;
  /** Client public keys its bound sockets accept; undefined: any client that knows its public key. */
  clientKeys?: string[];
  /** The public key of the socket each link connects to. */
  serverKeys: Partial<Record<CurveLink, string>>;
}

/** What a module does: whether it binds sockets others connect to, and which links it connects to. */
export interface CurveRole {
  binds: boolean;
  connectsTo: readonly CurveLink[];
}

const KEY_EXPECTED = 'must be a CURVE key: 40 characters of Z85, as `npm run keys` prints them';

/** Keys separated by commas or white space (no comments: `#` is a Z85 character). */
function keyList(raw: string): string[] {
  const keys = raw.split(/[\s,]+/).filter((key) => key !== '');
  if (keys.length === 0) throw new Error('must list at least one CURVE public key');
  const bad = keys.find((key) => !isZ85Key(key));
  if (bad !== undefined) throw new Error(`${KEY_EXPECTED}; ${JSON.stringify(bad)} is not`);
  return keys;
}

function oneKey(raw: string): string {
  const key = raw.trim();
  if (!isZ85Key(key)) throw new Error(KEY_EXPECTED);
  return key;
}

/** The file's text, given to `parse`; the error names the file when it cannot be read. */
function fromFile<T>(parse: (raw: string) => T): (path: string) => T {
  return (path) => {
    let text: string;
    try {
      text = readFileSync(path.trim(), 'utf8');
    } catch (error) {
      throw new Error(`must name a readable file (${(error as Error).message})`);
    }
    return parse(text);
  };
}

const variable = <T>(name: string, parse: (raw: string) => T, description: string, secret = false): EnvVar<T | undefined> => ({
  names: [name],
  parse,
  fallback: undefined,
  required: false,
  description,
  secret,
});

/** A value given inline or in a file (the `_FILE` variant, for Docker or Kubernetes secrets); a secret inline is never quoted. */
function inlineOrFile<T>(name: string, parse: (raw: string) => T, description: string, secret = false) {
  return { inline: variable(name, parse, description, secret), file: variable(`${name}_FILE`, fromFile(parse), `a file holding ${description}`) };
}

const SECRET_KEY = inlineOrFile('ZMQ_CURVE_SECRET_KEY', oneKey, 'a CURVE secret key', true);
const CLIENT_KEYS = inlineOrFile('ZMQ_CURVE_CLIENT_KEYS', keyList, 'CURVE public keys');
const serverKeyName = (link: CurveLink) => `${link}_CURVE_SERVER_KEY`;

/**
 * A module's CURVE settings: undefined (plain ZeroMQ, as without them) unless ZMQ_CURVE_SECRET_KEY or its `_FILE`
 * is set. A module that connects then needs `<LINK>_CURVE_SERVER_KEY` per link; one that binds may list the clients
 * it accepts in ZMQ_CURVE_CLIENT_KEYS(_FILE). Throws one ConfigError naming every bad, missing or conflicting variable.
 */
export function readCurveSettings(source: EnvSource, { binds, connectsTo }: CurveRole): CurveSettings | undefined {
  const spec: Record<string, EnvVar<unknown>> = { secretKey: SECRET_KEY.inline, secretKeyFile: SECRET_KEY.file };
  if (binds) Object.assign(spec, { clientKeys: CLIENT_KEYS.inline, clientKeysFile: CLIENT_KEYS.file });
  for (const link of connectsTo) spec[link] = variable(serverKeyName(link), oneKey, 'a CURVE public key');
  const read = readConfig(spec, source) as Record<string, string | string[] | undefined>;

  const problems: string[] = [];
  const either = (pair: { inline: EnvVar<unknown>; file: EnvVar<unknown> }, inline: unknown, file: unknown) => {
    if (inline !== undefined && file !== undefined) problems.push(`${pair.inline.names[0]} and ${pair.file.names[0]} are both set; set one`);
    return inline ?? file;
  };
  const secretKey = either(SECRET_KEY, read['secretKey'], read['secretKeyFile']) as string | undefined;
  const clientKeys = either(CLIENT_KEYS, read['clientKeys'], read['clientKeysFile']) as string[] | undefined;
  const serverKeys = Object.fromEntries(connectsTo.map((link) => [link, read[link] as string | undefined]));
  const curveVariables = Object.values(spec).flatMap(({ names }) => names.filter((name) => source[name] !== undefined));
  if (secretKey === undefined) {
    if (curveVariables.length > 0) problems.push(`${curveVariables.join(', ')} set without ZMQ_CURVE_SECRET_KEY (or ZMQ_CURVE_SECRET_KEY_FILE), which turns CURVE on`);
  } else {
    for (const link of connectsTo) {
      if (serverKeys[link] === undefined) problems.push(`${serverKeyName(link)} is required with ZMQ_CURVE_SECRET_KEY: the public key of the ${link.toLowerCase()} socket this module connects to`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secretKey === undefined ? undefined : { secretKey, clientKeys, serverKeys };
}

/** CURVE options of a module's bound socket; undefined without CURVE. */
export function boundCurve(settings: CurveSettings | undefined): CurveOptions | undefined {
  return settings && { secretKey: settings.secretKey, clientKeys: settings.clientKeys };
}

/** CURVE options of a socket connecting on `link`; undefined without CURVE. */
export function connectingCurve(settings: CurveSettings | undefined, link: CurveLink): CurveOptions | undefined {
  return settings && { secretKey: settings.secretKey, serverKey: settings.serverKeys[link] };
}
