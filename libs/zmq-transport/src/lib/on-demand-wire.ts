/**
 * The on-demand transport's wire: a consumer asks with `[pattern, wanted, received]`, or `[pattern, wanted,
 * received, 'follow']` to take only what other consumers take, and the producer answers with `[pattern, ordinal,
 * ...codec parts]`; counts and ordinals are decimal strings (see DemandLedger.request).
 */

/** Longer than any count a peer has reason to send. */
const COUNT_PART_BYTES = 16;

/** Longer than any pattern a consumer has reason to ask for. */
export const MAX_PATTERN_BYTES = 256;

/**
 * ZMQ_MAXMSGSIZE of the producer's socket: a peer sending a larger part is disconnected before the part is read into
 * memory. Requests are far smaller; CURVE's handshake commands (INITIATE with its metadata) are too, but not 256 bytes.
 */
export const MAX_REQUEST_PART_BYTES = 64 * 1024;

/** The part a following consumer adds to its requests. */
export const FOLLOW = 'follow';

/**
 * `[pattern, wanted, received]`, `FOLLOW` after them from a follower: the pattern as UTF-8 (at most
 * MAX_PATTERN_BYTES), then two counts as decimal strings (see DemandLedger.request).
 */
export function parseRequest(request: Buffer[]): { pattern: string; wanted: number; received: number; follows: boolean } | undefined {
  if (request.length !== 3 && !(request.length === 4 && request[3].toString('latin1') === FOLLOW)) return undefined;
  const [wanted, received] = request.slice(1, 3).map(parseCount);
  if (wanted === undefined || received === undefined || request[0].length > MAX_PATTERN_BYTES) return undefined;
  return { pattern: request[0].toString('utf8'), wanted, received, follows: request.length === 4 };
}

/** A non-negative integer written in decimal digits only; undefined otherwise. */
export function parseCount(part: Buffer): number | undefined {
  const text = part.length <= COUNT_PART_BYTES ? part.toString('latin1') : '';
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
