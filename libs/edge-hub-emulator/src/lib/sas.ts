import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A module's symmetric key, as IoT Hub generates them: 32 random bytes, base64. */
export function newModuleKey(): string {
  return randomBytes(32).toString('base64');
}

/** HMAC-SHA256 of `data` with a base64 key, base64: what a SAS token's signature and the workload API's sign are. */
export function hmacSha256(base64Key: string, data: Buffer | string): string {
  return createHmac('sha256', Buffer.from(base64Key, 'base64')).update(data).digest('base64');
}

/** The resource a module's token must be issued for: `<hub>/devices/<device>/modules/<module>`. */
export function moduleResource(iothubHostName: string, deviceId: string, moduleId: string): string {
  return `${iothubHostName}/devices/${deviceId}/modules/${moduleId}`;
}

function tokenFields(token: string): Map<string, string> | undefined {
  const match = /^SharedAccessSignature\s+(.+)$/.exec(token.trim());
  if (!match) return undefined;
  // Values stay URL-encoded: the signature covers `sr` exactly as it appears in the token.
  return new Map(match[1].split('&').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}

/** When a token's validity ends (its `se`), in ms since the epoch; undefined when it has no numeric `se`. */
export function sasTokenExpiryMs(token: string): number | undefined {
  const expiry = Number(tokenFields(token)?.get('se'));
  return Number.isInteger(expiry) ? expiry * 1000 : undefined;
}

/**
 * Why a SAS token does not authenticate this module, or undefined when it does: signed (HMAC-SHA256 over
 * `<sr>\n<se>`) with the module's key, issued for the module's resource, not expired.
 */
export function sasTokenProblem(token: string, resource: string, key: string, nowMs = Date.now()): string | undefined {
  const fields = tokenFields(token);
  if (!fields) return 'the password is not a SharedAccessSignature token';
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!sr || !sig || !se) return 'the token lacks one of sr, sig, se';
  let decodedSr: string;
  let decodedSig: Buffer;
  try {
    decodedSr = decodeURIComponent(sr);
    decodedSig = Buffer.from(decodeURIComponent(sig), 'base64');
  } catch {
    return 'the token is not URL-encoded properly';
  }
  if (decodedSr.toLowerCase() !== resource.toLowerCase()) return `the token is for ${decodedSr}, not ${resource}`;
  const expiry = Number(se);
  if (!Number.isInteger(expiry)) return `the token's expiry (se=${se}) is not a number`;
  if (expiry * 1000 <= nowMs) return `the token expired at ${new Date(expiry * 1000).toISOString()}`;
  const expected = Buffer.from(hmacSha256(key, `${sr}\n${se}`), 'base64');
  if (decodedSig.length !== expected.length || !timingSafeEqual(decodedSig, expected)) {
    return "the token's signature does not match the module's key";
  }
  return undefined;
}
