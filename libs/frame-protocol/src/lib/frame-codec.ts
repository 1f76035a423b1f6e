import { decodeUtf8, expectPartCount, MessageKind, PREAMBLE_LENGTH, readPreamble, versionOf, writePreamble } from './envelope';
import { invalidField, MAX_DIMENSION, readDimension, readEpochMs, readInteger, readSequence, readSourceId } from './fields';
import { minStride, pixelByteLength } from './pixel-format';
import { ProtocolError } from './protocol-error';
import { type Codec, ColorMatrix, type Frame, type FrameHeader } from './types';

/** Widest row we accept: the widest frame at 4 bytes per pixel, room for padded or cropped (ROI) rows. */
const MAX_STRIDE = MAX_DIMENSION * 4;

/**
 * The largest message part the protocol can carry: the pixels of the tallest frame at the widest stride (1 GiB).
 * Headers and detections are far smaller. Transports cap what they accept from a peer at this.
 */
export const MAX_MESSAGE_PART_BYTES = MAX_STRIDE * MAX_DIMENSION;

/**
 * Byte offsets in the frame header part (little-endian), after the preamble. Variable-length sourceId goes
 * last so every fixed field sits at a constant offset.
 */
export const FRAME_HEADER_LAYOUT = {
  pixelFormat: PREAMBLE_LENGTH, // u8
  width: PREAMBLE_LENGTH + 1, // u32
  height: PREAMBLE_LENGTH + 5, // u32
  stride: PREAMBLE_LENGTH + 9, // u32
  sequence: PREAMBLE_LENGTH + 13, // u64
  captureTimeMs: PREAMBLE_LENGTH + 21, // f64
  pixelByteLength: PREAMBLE_LENGTH + 29, // u32
  sourceIdByteLength: PREAMBLE_LENGTH + 33, // u16
  colorMatrix: PREAMBLE_LENGTH + 35, // u8, an H.273 code (version 3)
  fullRange: PREAMBLE_LENGTH + 36, // u8, H.273's VideoFullRangeFlag: 0 or 1 (version 3)
  sourceId: PREAMBLE_LENGTH + 37, // UTF-8 bytes
} as const;

/** H.273's code for a matrix the source did not say: a header without colorMatrix. */
const UNSPECIFIED_MATRIX = 2;

/** Versions 1 and 2 have neither colorMatrix nor fullRange: their sourceId starts where colorMatrix would be. */
const fixedHeaderLength = (version: number): number => (version >= 3 ? FRAME_HEADER_LAYOUT.sourceId : FRAME_HEADER_LAYOUT.colorMatrix);
const FIXED_HEADER_LENGTH = fixedHeaderLength(3);

/**
 * A frame as two ZeroMQ parts: `[header, pixels]`. The pixel bytes travel as their own part so neither side
 * copies them: encode wraps the caller's memory, decode hands back the received Buffer itself.
 */
export const frameCodec: Codec<Frame> = {
  encode(frame: Frame): Buffer[] {
    checkFrameHeader(frame);
    checkPixelByteLength(frame, frame.pixels.byteLength);
    const sourceId = Buffer.from(frame.sourceId, 'utf8');
    const header = Buffer.alloc(FIXED_HEADER_LENGTH + sourceId.length);
    const view = writePreamble(header, MessageKind.Frame);
    const at = FRAME_HEADER_LAYOUT;
    view.setUint8(at.pixelFormat, frame.pixelFormat);
    view.setUint32(at.width, frame.width, true);
    view.setUint32(at.height, frame.height, true);
    view.setUint32(at.stride, frame.stride, true);
    view.setBigUint64(at.sequence, BigInt(frame.sequence), true);
    view.setFloat64(at.captureTimeMs, frame.captureTimeMs, true);
    view.setUint32(at.pixelByteLength, frame.pixels.byteLength, true);
    view.setUint16(at.sourceIdByteLength, sourceId.length, true);
    view.setUint8(at.colorMatrix, frame.colorMatrix ?? UNSPECIFIED_MATRIX);
    view.setUint8(at.fullRange, frame.fullRange ? 1 : 0);
    sourceId.copy(header, at.sourceId);
    return [header, asBuffer(frame.pixels)];
  },

  decode(parts: Buffer[]): Frame {
    expectPartCount(parts, 2, MessageKind.Frame);
    const [header, pixels] = parts;
    const view = readPreamble(header, MessageKind.Frame);
    const version = versionOf(view);
    const fixedLength = fixedHeaderLength(version);
    if (header.length < fixedLength) {
      throw new ProtocolError('TRUNCATED', `frame header is ${header.length} bytes, shorter than its ${fixedLength} fixed bytes`);
    }
    const at = FRAME_HEADER_LAYOUT;
    const expectedHeaderLength = fixedLength + view.getUint16(at.sourceIdByteLength, true);
    if (header.length < expectedHeaderLength) {
      throw new ProtocolError('TRUNCATED', `frame header is ${header.length} bytes, its sourceId needs ${expectedHeaderLength}`);
    }
    if (header.length > expectedHeaderLength) {
      throw new ProtocolError('LENGTH_MISMATCH', `frame header has ${header.length - expectedHeaderLength} trailing byte(s)`);
    }
    const sequence = view.getBigUint64(at.sequence, true);
    const frameHeader: FrameHeader = {
      sourceId: decodeUtf8(header.subarray(fixedLength)) ?? invalidField('sourceId', 'is not valid UTF-8'),
      sequence: sequence <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sequence) : invalidField('sequence', `${sequence} is not a safe integer`),
      captureTimeMs: view.getFloat64(at.captureTimeMs, true),
      width: view.getUint32(at.width, true),
      height: view.getUint32(at.height, true),
      stride: view.getUint32(at.stride, true),
      pixelFormat: view.getUint8(at.pixelFormat),
    };
    if (version >= 3) readColour(view, frameHeader);
    checkFrameHeader(frameHeader);
    const declaredPixelBytes = view.getUint32(at.pixelByteLength, true);
    checkPixelByteLength(frameHeader, declaredPixelBytes);
    if (pixels.length !== declaredPixelBytes) {
      throw new ProtocolError('LENGTH_MISMATCH', `pixel part is ${pixels.length} bytes, the header declares ${declaredPixelBytes}`);
    }
    return { ...frameHeader, pixels };
  },
};

/** A version 3 header's colour fields into `header`, each left out where it says nothing (an unsaid matrix, limited range). */
function readColour(view: DataView, header: FrameHeader): void {
  const colorMatrix = view.getUint8(FRAME_HEADER_LAYOUT.colorMatrix);
  if (colorMatrix !== UNSPECIFIED_MATRIX) header.colorMatrix = colorMatrix;
  const fullRange = view.getUint8(FRAME_HEADER_LAYOUT.fullRange);
  if (fullRange > 1) invalidField('fullRange', `must be 0 or 1, got ${fullRange}`);
  if (fullRange === 1) header.fullRange = true;
}

/** The same rules on both sides: a frame that would not decode is refused at encode time. */
function checkFrameHeader(header: FrameHeader): void {
  readSourceId(header.sourceId, 'sourceId');
  readSequence(header.sequence, 'sequence');
  readEpochMs(header.captureTimeMs, 'captureTimeMs');
  readDimension(header.width, 'width');
  readDimension(header.height, 'height');
  readInteger(header.stride, 'stride', minStride(header.pixelFormat, header.width), MAX_STRIDE);
  if (header.colorMatrix !== undefined && typeof ColorMatrix[header.colorMatrix] !== 'string') {
    invalidField('colorMatrix', `is not a matrix frames carry (H.273 codes 1, 6 and 9): ${header.colorMatrix}`);
  }
  if (header.fullRange !== undefined && typeof header.fullRange !== 'boolean') invalidField('fullRange', `must be a boolean, got ${typeof header.fullRange}`);
  // I420's chroma planes add half again: its widest stride at the largest height would not fit a message part.
  if (pixelByteLength(header) > MAX_MESSAGE_PART_BYTES) invalidField('stride', `${header.stride} at height ${header.height} makes a frame over ${MAX_MESSAGE_PART_BYTES} bytes`);
}

function checkPixelByteLength(header: FrameHeader, byteLength: number): void {
  const expected = pixelByteLength(header);
  if (byteLength !== expected) {
    throw new ProtocolError('LENGTH_MISMATCH', `pixels are ${byteLength} bytes, a frame of stride ${header.stride} and height ${header.height} is ${expected}`);
  }
}

/** A Buffer over the same memory: ZeroMQ sends Buffers, and copying a frame here would defeat the point. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
