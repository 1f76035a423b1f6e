import { ProtocolError } from './protocol-error';

/** ASCII "IEVP" read as a big-endian uint32: the first four bytes of every message. */
const MAGIC = 0x49_45_56_50;
/**
 * The newest version this module reads. 2: detections' boxes may carry `text` and `textScore` (recognition), and later
 * `lineId` with the detections' `runId` (fields older readers of 2 drop: no new version). 3: frame headers carry the
 * colour matrix and range, and the sources kind (a module's announced cameras) is added. 4: the regions kind (the
 * ignore regions inference applies) is added. Readers also take the older versions (the same layouts without those), so
 * a newer module reads an older one's messages; an older reader refuses a newer version by name instead of misreading it.
 */
export const PROTOCOL_VERSION = 4;
const OLDEST_READABLE_VERSION = 1;

export enum MessageKind {
  Frame = 1,
  Detections = 2,
  Sources = 3,
  Regions = 4,
}

/**
 * The version each kind is written in: the last that changed its layout. A reader that knows it reads it, so an older
 * telemetry or preview still reads a newer inference's detections while modules are updated one at a time.
 */
const WRITTEN_VERSIONS: Readonly<Record<MessageKind, number>> = { [MessageKind.Frame]: 3, [MessageKind.Detections]: 2, [MessageKind.Sources]: 3, [MessageKind.Regions]: 4 };

/** magic (4) + version (1) + kind (1). */
export const PREAMBLE_LENGTH = 6;

export function expectPartCount(parts: readonly Buffer[], expected: number, kind: MessageKind): void {
  if (parts.length !== expected) {
    throw new ProtocolError('BAD_PART_COUNT', `${MessageKind[kind]} messages have ${expected} part(s), got ${parts.length}`);
  }
}

/** A DataView over exactly the part's bytes (a received Buffer is often a slice of a larger ArrayBuffer). */
export function viewOf(part: Buffer): DataView {
  return new DataView(part.buffer, part.byteOffset, part.byteLength);
}

export function writePreamble(part: Buffer, kind: MessageKind): DataView {
  const view = viewOf(part);
  view.setUint32(0, MAGIC, false);
  view.setUint8(4, WRITTEN_VERSIONS[kind]);
  view.setUint8(5, kind);
  return view;
}

/** The protocol version a message was written in, from a view readPreamble checked. */
export const versionOf = (view: DataView): number => view.getUint8(4);

/** Checks magic, version and kind, in that order, so the error says how far the bytes got. */
export function readPreamble(part: Buffer, expected: MessageKind): DataView {
  if (part.length < PREAMBLE_LENGTH) throw new ProtocolError('TRUNCATED', `message is ${part.length} bytes, shorter than the ${PREAMBLE_LENGTH}-byte preamble`);
  const view = viewOf(part);
  if (view.getUint32(0, false) !== MAGIC) throw new ProtocolError('BAD_MAGIC', 'message does not start with the protocol magic "IEVP"');
  const version = versionOf(view);
  if (version < OLDEST_READABLE_VERSION || version > PROTOCOL_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version ${version} is not supported (this module reads ${OLDEST_READABLE_VERSION} to ${PROTOCOL_VERSION}: upgrade the older module)`);
  }
  const kind = view.getUint8(5);
  if (kind !== expected) throw new ProtocolError('WRONG_KIND', `expected a ${MessageKind[expected]} message, got kind ${MessageKind[kind] ?? kind}`);
  return view;
}

// ignoreBOM: a leading U+FEFF is the text's own, kept as encoded (by default the decoder would drop it).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, rejecting invalid sequences instead of replacing them. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
