import { ProtocolError } from './protocol-error';

/** Largest frame side we accept; bigger values are corrupt headers, not cameras. */
export const MAX_DIMENSION = 16_384;
/** Longest source id in UTF-8 bytes. */
export const MAX_SOURCE_ID_BYTES = 256;
/** Longest run id in UTF-8 bytes: a UUID is 36. */
const MAX_RUN_ID_BYTES = 64;
/** An announcement's longest repeat, an hour: longer would leave a preview trusting a list long after its module stopped. */
const MAX_REPEAT_MS = 3_600_000;

// Field readers shared by the binary frame header and the JSON bodies (detections, sources). Each takes `unknown`,
// checks it and returns it typed, so one set of rules covers encoding and decoding of both kinds.

export function invalidField(path: string, problem: string): never {
  throw new ProtocolError('INVALID_FIELD', `${path} ${problem}`);
}

export function readInteger(value: unknown, path: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value)) invalidField(path, `must be an integer, got ${describe(value)}`);
  const integer = value as number;
  if (integer < min || integer > max) invalidField(path, `must be within [${min}, ${max}], got ${integer}`);
  return integer;
}

export function readFiniteNumber(value: unknown, path: string, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalidField(path, `must be a finite number, got ${describe(value)}`);
  if (value < min) invalidField(path, `must be >= ${min}, got ${value}`);
  return value;
}

export function readNonEmptyString(value: unknown, path: string, maxBytes = Infinity): string {
  if (typeof value !== 'string' || value.length === 0) invalidField(path, `must be a non-empty string, got ${describe(value)}`);
  if (lengthFault(value, maxBytes)) invalidField(path, `must be at most ${maxBytes} UTF-8 bytes`);
  return value;
}

/** How a string breaks the rule of a non-empty one of at most so many bytes in UTF-8: for each reader to word. */
export type LengthFault = 'empty' | 'too long';

function lengthFault(value: string, maxBytes: number): LengthFault | undefined {
  if (value.length === 0) return 'empty';
  return Buffer.byteLength(value, 'utf8') > maxBytes ? 'too long' : undefined;
}

/**
 * How a string breaks a source id's rule (readSourceId's: a frame header holds at most MAX_SOURCE_ID_BYTES of it), if
 * it does: for the variables that name sources (SOURCE_ID, IGNORE_REGIONS' keys) to refuse it in their own words.
 */
export const sourceIdFault = (sourceId: string): LengthFault | undefined => lengthFault(sourceId, MAX_SOURCE_ID_BYTES);

export const readDimension = (value: unknown, path: string): number => readInteger(value, path, 1, MAX_DIMENSION);
export const readSequence = (value: unknown, path: string): number => readInteger(value, path, 0, Number.MAX_SAFE_INTEGER);
export const readEpochMs = (value: unknown, path: string): number => readFiniteNumber(value, path, 0);
export const readSourceId = (value: unknown, path: string): string => readNonEmptyString(value, path, MAX_SOURCE_ID_BYTES);
export const readRunId = (value: unknown, path: string): string => readNonEmptyString(value, path, MAX_RUN_ID_BYTES);
export const readRepeatMs = (value: unknown, path: string): number => readInteger(value, path, 1, MAX_REPEAT_MS);

export function readObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalidField(path, 'must be an object');
  return value as Record<string, unknown>;
}

export function readArray(value: unknown, path: string, exactLength?: number): unknown[] {
  if (!Array.isArray(value)) invalidField(path, 'must be an array');
  if (exactLength !== undefined && value.length !== exactLength) invalidField(path, `must have ${exactLength} items, got ${value.length}`);
  return value;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'number' ? String(value) : typeof value;
}
