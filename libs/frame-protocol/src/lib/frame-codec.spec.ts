import { PROTOCOL_VERSION } from './envelope';
import { makeDetections, makeFrame, rejectionOf } from '../test-support/samples';
import { detectionsCodec } from './detections-codec';
import { FRAME_HEADER_LAYOUT, frameCodec } from './frame-codec';
import type { ProtocolErrorCode } from './protocol-error';
import { ColorMatrix, PixelFormat } from './types';

/** Encodes a valid frame, then lets a test rewrite header bytes before decoding. */
function encodedWith(patch: (header: DataView) => void, frame = makeFrame()): Buffer[] {
  const [header, pixels] = frameCodec.encode(frame);
  patch(new DataView(header.buffer, header.byteOffset, header.byteLength));
  return [header, pixels];
}

describe('frameCodec', () => {
  it.each([
    ['BGR24', makeFrame()],
    ['RGB24 with padded rows', makeFrame({ pixelFormat: PixelFormat.RGB24 }, 7)],
    ['GRAY8', makeFrame({ pixelFormat: PixelFormat.GRAY8, width: 640, height: 2 })],
    ['I420 of odd sides', makeFrame({ pixelFormat: PixelFormat.I420, width: 5, height: 3 })],
    ['I420 with padded rows', makeFrame({ pixelFormat: PixelFormat.I420, width: 6, height: 4 }, 2)],
    ['I420 of BT.709', makeFrame({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT709 })],
    ['I420 of BT.601, said', makeFrame({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT601 })],
    ['I420 of BT.2020', makeFrame({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT2020 })],
    ['I420 of full range', makeFrame({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT601, fullRange: true })],
    ['a non-ASCII source and the largest safe sequence', makeFrame({ sourceId: 'kamera-Süd/🎥', sequence: Number.MAX_SAFE_INTEGER })],
    ['the largest sides', makeFrame({ pixelFormat: PixelFormat.GRAY8, width: 16_384, height: 1 })],
    ['a source id that starts with a byte order mark', makeFrame({ sourceId: '\uFEFFcam' })],
  ])('round-trips %s', (_, frame) => {
    const parts = frameCodec.encode(frame);

    expect(parts).toHaveLength(2);
    const decoded = frameCodec.decode(parts);
    expect({ ...decoded, pixels: undefined }).toEqual({ ...frame, pixels: undefined });
    expect(Buffer.compare(decoded.pixels, frame.pixels)).toBe(0);
  });

  it('sends the caller’s pixel memory as the second part without copying', () => {
    const backing = new ArrayBuffer(1024);
    const frame = { ...makeFrame(), pixels: new Uint8Array(backing, 100, 45) };

    const [, pixels] = frameCodec.encode(frame);

    expect(pixels.buffer).toBe(backing);
    expect(pixels.byteOffset).toBe(100);
    expect(pixels.byteLength).toBe(45);
  });

  it('returns the received pixel Buffer itself, so the frame is a view into the message', () => {
    const [header, pixels] = frameCodec.encode(makeFrame());
    const received = Buffer.from(Buffer.concat([Buffer.alloc(16), pixels]).buffer, 16, pixels.length);

    const decoded = frameCodec.decode([header, received]);

    expect(decoded.pixels).toBe(received);
    expect(decoded.pixels.buffer).toBe(received.buffer);
    expect(decoded.pixels.byteOffset).toBe(16);
  });

  it('reads a header that is a slice of a larger buffer', () => {
    const [header, pixels] = frameCodec.encode(makeFrame({ sequence: 7 }));
    const sliced = Buffer.concat([Buffer.from('junk'), header]).subarray(4);

    expect(frameCodec.decode([sliced, pixels]).sequence).toBe(7);
  });

  it('writes version 3, whose headers carry the colours', () => {
    expect(frameCodec.encode(makeFrame())[0][4]).toBe(3);
  });

  it('reads version 2 headers, which end their fixed bytes before colorMatrix: no matrix said, limited range', () => {
    const [header, pixels] = frameCodec.encode(makeFrame({ pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT709, fullRange: true, sourceId: 'door' }));
    const version2 = Buffer.concat([header.subarray(0, FRAME_HEADER_LAYOUT.colorMatrix), header.subarray(FRAME_HEADER_LAYOUT.sourceId)]);
    version2[4] = 2;

    const decoded = frameCodec.decode([version2, pixels]);

    expect(decoded.sourceId).toBe('door');
    expect(decoded).not.toHaveProperty('colorMatrix');
    expect(decoded).not.toHaveProperty('fullRange');
  });

  it('leaves colorMatrix and fullRange out of a frame whose source did not say a matrix, of limited range', () => {
    const decoded = frameCodec.decode(frameCodec.encode(makeFrame({ pixelFormat: PixelFormat.I420, fullRange: false })));

    expect(decoded).not.toHaveProperty('colorMatrix');
    expect(decoded).not.toHaveProperty('fullRange');
  });

  const at = FRAME_HEADER_LAYOUT;
  const cases: Array<[string, ProtocolErrorCode, () => Buffer[]]> = [
    ['one part', 'BAD_PART_COUNT', () => frameCodec.encode(makeFrame()).slice(0, 1)],
    ['three parts', 'BAD_PART_COUNT', () => [...frameCodec.encode(makeFrame()), Buffer.alloc(1)]],
    ['a header shorter than the preamble', 'TRUNCATED', () => [Buffer.from('IEV'), Buffer.alloc(0)]],
    ['foreign bytes', 'BAD_MAGIC', () => encodedWith((view) => view.setUint8(0, 0x58))],
    ['a newer protocol version', 'UNSUPPORTED_VERSION', () => encodedWith((view) => view.setUint8(4, PROTOCOL_VERSION + 1))],
    ['a detections message', 'WRONG_KIND', () => [...detectionsCodec.encode(makeDetections()), Buffer.alloc(0)]],
    ['a header cut inside the fixed fields', 'TRUNCATED', () => frameCodec.encode(makeFrame()).map((part, index) => (index === 0 ? part.subarray(0, 20) : part))],
    ['a header cut inside the sourceId', 'TRUNCATED', () => frameCodec.encode(makeFrame()).map((part, index) => (index === 0 ? part.subarray(0, part.length - 1) : part))],
    ['trailing header bytes', 'LENGTH_MISMATCH', () => frameCodec.encode(makeFrame()).map((part, index) => (index === 0 ? Buffer.concat([part, Buffer.alloc(1)]) : part))],
    ['a pixel part shorter than declared', 'LENGTH_MISMATCH', () => frameCodec.encode(makeFrame()).map((part, index) => (index === 1 ? part.subarray(1) : part))],
    ['an I420 frame without its chroma planes', 'LENGTH_MISMATCH', () => encodedWith((view) => view.setUint8(at.pixelFormat, PixelFormat.I420), makeFrame({ pixelFormat: PixelFormat.GRAY8 }))],
    ['a declared pixel length other than stride * height', 'LENGTH_MISMATCH', () => encodedWith((view) => view.setUint32(at.pixelByteLength, 44, true))],
    ['an unknown pixel format', 'INVALID_FIELD', () => encodedWith((view) => view.setUint8(at.pixelFormat, 9))],
    ['a colour matrix frames do not carry (H.273 code 4, FCC)', 'INVALID_FIELD', () => encodedWith((view) => view.setUint8(at.colorMatrix, 4))],
    ['a range flag other than 0 or 1', 'INVALID_FIELD', () => encodedWith((view) => view.setUint8(at.fullRange, 2))],
    ['a zero width', 'INVALID_FIELD', () => encodedWith((view) => view.setUint32(at.width, 0, true))],
    ['a height over 16384', 'INVALID_FIELD', () => encodedWith((view) => view.setUint32(at.height, 16_385, true))],
    ['a stride below width * bytes per pixel', 'INVALID_FIELD', () => encodedWith((view) => view.setUint32(at.stride, 14, true))],
    ['a sequence beyond Number.MAX_SAFE_INTEGER', 'INVALID_FIELD', () => encodedWith((view) => view.setBigUint64(at.sequence, 2n ** 53n, true))],
    ['a NaN capture time', 'INVALID_FIELD', () => encodedWith((view) => view.setFloat64(at.captureTimeMs, NaN, true))],
    ['a sourceId that is not UTF-8', 'INVALID_FIELD', () => encodedWith((view) => view.setUint8(at.sourceId, 0xff))],
    ['an empty sourceId', 'INVALID_FIELD', () => encodedWith((view) => view.setUint16(at.sourceIdByteLength, 0, true), makeFrame({ sourceId: 'x' })).map((part, index) => (index === 0 ? part.subarray(0, -1) : part))],
  ];

  it.each(cases)('rejects %s with %s', (_, code, parts) => {
    const error = rejectionOf(frameCodec, parts());

    expect(error.code).toBe(code);
    expect(error.message).not.toBe('');
  });

  it.each([
    ['pixels of the wrong length', { ...makeFrame(), pixels: new Uint8Array(3) }, 'LENGTH_MISMATCH'],
    ['a stride too small for the width', { ...makeFrame(), stride: 2 }, 'INVALID_FIELD'],
    ['a fractional sequence', { ...makeFrame(), sequence: 1.5 }, 'INVALID_FIELD'],
    ['an empty sourceId', { ...makeFrame(), sourceId: '' }, 'INVALID_FIELD'],
    ['an unknown pixel format', { ...makeFrame(), pixelFormat: 42 }, 'INVALID_FIELD'],
    ['an unknown colour matrix', { ...makeFrame(), colorMatrix: 2 }, 'INVALID_FIELD'],
    ['a range flag that is not a boolean', { ...makeFrame(), fullRange: 1 as unknown as boolean }, 'INVALID_FIELD'],
    ['an I420 frame over the largest message part', { ...makeFrame({ pixelFormat: PixelFormat.I420 }), stride: 65_536, height: 16_384 }, 'INVALID_FIELD'],
  ])('refuses to encode %s', (_, frame, code) => {
    expect(() => frameCodec.encode(frame)).toThrow(expect.objectContaining({ name: 'ProtocolError', code }));
  });
});
