import { makeDetections, makeFrame, rejectionOf } from '../test-support/samples';
import { detectionsCodec, MAX_DETECTIONS_PART_BYTES } from './detections-codec';
import { PREAMBLE_LENGTH } from './envelope';
import { frameCodec } from './frame-codec';
import type { ProtocolErrorCode } from './protocol-error';

/** A detections message whose JSON body is replaced by `body`, preamble kept valid. */
function withBody(body: string | Buffer): Buffer[] {
  const [valid] = detectionsCodec.encode(makeDetections());
  return [Buffer.concat([valid.subarray(0, PREAMBLE_LENGTH), Buffer.from(body)])];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests write wrongly typed values on purpose
type LooseJson = Record<string, any>;

/** A detections message whose JSON was changed in place by `mutate` (loosely typed, so tests can break types). */
function withJson(mutate: (json: LooseJson) => void): Buffer[] {
  const json = JSON.parse(JSON.stringify(makeDetections()));
  mutate(json);
  return withBody(JSON.stringify(json));
}

describe('detectionsCodec', () => {
  it('round-trips detections through one part', () => {
    const parts = detectionsCodec.encode(makeDetections());

    expect(parts).toHaveLength(1);
    expect(detectionsCodec.decode(parts)).toEqual(makeDetections());
  });

  it('round-trips detections without boxes', () => {
    const empty = { ...makeDetections(), boxes: [] };

    expect(detectionsCodec.decode(detectionsCodec.encode(empty))).toEqual(empty);
  });

  it('round-trips the text read for a box, empty text included', () => {
    const read = makeDetections();
    read.boxes[0] = { ...read.boxes[0], text: 'Gate 7', textScore: 0.97 };
    read.boxes[1] = { ...read.boxes[1], text: '', textScore: 0 };
    read.timings.recognizeMs = 12.5;
    read.lines = { read: 1, carried: 1, dropped: 0, textAfterMs: [66, 0] };

    expect(detectionsCodec.decode(detectionsCodec.encode(read))).toEqual(read);
  });

  it('writes version 2, the last that changed detections, so an older telemetry reads a newer inference', () => {
    expect(detectionsCodec.encode(makeDetections())[0][4]).toBe(2);
  });

  it('reads version 1 messages (no text), so a newer module works with an older inference module', () => {
    const [part] = detectionsCodec.encode(makeDetections());
    part.writeUInt8(1, 4);

    expect(detectionsCodec.decode([part])).toEqual(makeDetections());
  });

  it("round-trips each box's line id and the run they belong to, still written as version 2 so that older readers take them", () => {
    const followed = { ...makeDetections(), runId: '5c3f2a4e-8f1d-4a57-9d0e-2b7c1e6f9a10' };
    followed.boxes[0] = { ...followed.boxes[0], lineId: 7, text: 'Gate 7', textScore: 0.97 };
    followed.boxes[1] = { ...followed.boxes[1], lineId: 12 };
    const [part] = detectionsCodec.encode(followed);

    expect(detectionsCodec.decode([part])).toEqual(followed);
    // A reader of versions 2 and 3 (telemetry or a preview not yet updated) drops fields it does not know: no refusal.
    expect(part[4]).toBe(2);
  });

  it("reads an older inference's detections, without line ids or run, as they were", () => {
    const decoded = detectionsCodec.decode(detectionsCodec.encode(makeDetections()));

    expect(decoded.runId).toBeUndefined();
    expect(decoded.boxes.map((box) => box.lineId)).toEqual([undefined, undefined]);
  });

  it('refuses a part over MAX_DETECTIONS_PART_BYTES before parsing it, and will not encode one', () => {
    // Valid JSON of nothing but empty boxes: parsed, it would be millions of objects before any field is checked.
    const flood = withBody(`{"boxes":[${'{},'.repeat(MAX_DETECTIONS_PART_BYTES / 3)}{}]}`);
    const rejection = rejectionOf(detectionsCodec, flood);
    expect(rejection.code).toBe('LENGTH_MISMATCH');
    expect(rejection.message).toMatch(/^a detections part of \d+ bytes is more than the 4194304 allowed$/);

    const longest = { ...makeDetections(), boxes: Array.from({ length: 4000 }, () => ({ ...makeDetections().boxes[0], text: 'x'.repeat(1000), textScore: 0.9 })) };
    expect(() => detectionsCodec.encode(longest)).toThrow(/is more than the 4194304 allowed/);
  });

  it('drops fields it does not know, on both sides', () => {
    const decoded = detectionsCodec.decode(withJson((json) => Object.assign(json, { extra: 1, frame: { ...json.frame, note: 'x' } })));
    const reEncoded = detectionsCodec.decode(detectionsCodec.encode({ ...makeDetections(), extra: true } as never));

    expect(decoded).toEqual(makeDetections());
    expect(reEncoded).toEqual(makeDetections());
  });

  const envelopeCases: Array<[string, ProtocolErrorCode, () => Buffer[]]> = [
    ['no parts', 'BAD_PART_COUNT', () => []],
    ['two parts', 'BAD_PART_COUNT', () => [...detectionsCodec.encode(makeDetections()), Buffer.alloc(0)]],
    ['a part shorter than the preamble', 'TRUNCATED', () => [Buffer.from('IEVP')]],
    ['plain JSON without the preamble', 'BAD_MAGIC', () => [Buffer.from(JSON.stringify(makeDetections()))]],
    ['protocol version 0', 'UNSUPPORTED_VERSION', () => detectionsCodec.encode(makeDetections()).map((part) => Buffer.concat([part.subarray(0, 4), Buffer.from([0]), part.subarray(5)]))],
    ['a newer protocol version', 'UNSUPPORTED_VERSION', () => detectionsCodec.encode(makeDetections()).map((part) => Buffer.concat([part.subarray(0, 4), Buffer.from([9]), part.subarray(5)]))],
    ['a frame header', 'WRONG_KIND', () => frameCodec.encode(makeFrame()).slice(0, 1)],
    ['a body that is not UTF-8', 'INVALID_JSON', () => withBody(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))],
    ['a body that is not JSON', 'INVALID_JSON', () => withBody('{"frame":')],
    ['an empty body', 'INVALID_JSON', () => withBody('')],
    ['a body that is an array', 'INVALID_FIELD', () => withBody('[]')],
    ['a body that is null', 'INVALID_FIELD', () => withBody('null')],
  ];

  it.each(envelopeCases)('rejects %s with %s', (_, code, parts) => {
    expect(rejectionOf(detectionsCodec, parts()).code).toBe(code);
  });

  const shapeCases: Array<[string, (json: LooseJson) => void]> = [
    ['a missing frame', (json) => delete json.frame],
    ['a string sequence', (json) => (json.frame.sequence = '41')],
    ['a negative sequence', (json) => (json.frame.sequence = -1)],
    ['an empty sourceId', (json) => (json.frame.sourceId = '')],
    ['a width of 0', (json) => (json.width = 0)],
    ['a fractional height', (json) => (json.height = 480.5)],
    ['a missing modelId', (json) => delete json.modelId],
    ['boxes that are an object', (json) => (json.boxes = {})],
    ['a box with three points', (json) => json.boxes[0].points.pop()],
    ['a point with three coordinates', (json) => json.boxes[0].points[1].push(3)],
    ['a fractional coordinate', (json) => (json.boxes[1].points[2][0] = 1.5)],
    ['a coordinate that is a string', (json) => (json.boxes[1].points[2][1] = '4')],
    ['a null score', (json) => (json.boxes[0].score = null)],
    ['a box that is an array', (json) => (json.boxes[0] = [])],
    ['text without textScore', (json) => (json.boxes[0].text = 'EXIT')],
    ['textScore without text', (json) => (json.boxes[0].textScore = 0.9)],
    ['a text that is a number', (json) => Object.assign(json.boxes[0], { text: 7, textScore: 0.9 })],
    ['line counts that are not integers', (json) => (json.lines = { read: 1.5, carried: 0, dropped: 0 })],
    ['line counts without carried', (json) => (json.lines = { read: 1, dropped: 0 })],
    ['a negative wait for new text', (json) => (json.lines = { read: 1, carried: 0, dropped: 0, textAfterMs: [-1] })],
    ['waits for new text that are not an array', (json) => (json.lines = { read: 1, carried: 0, dropped: 0, textAfterMs: 33 })],
    ['a textScore above 1', (json) => Object.assign(json.boxes[0], { text: 'EXIT', textScore: 1.5 })],
    ['a text of 1001 characters', (json) => Object.assign(json.boxes[0], { text: 'x'.repeat(1001), textScore: 0.5 })],
    ['missing timings', (json) => delete json.timings],
    ['a string timing', (json) => (json.timings.inferenceMs = '41')],
    ['a missing publishedAtMs', (json) => delete json.publishedAtMs],
    ['a line id of 0', (json) => (json.boxes[0].lineId = 0)],
    ['a fractional line id', (json) => (json.boxes[0].lineId = 1.5)],
    ['a line id that is a string', (json) => (json.boxes[0].lineId = '7')],
    ['an empty runId', (json) => (json.runId = '')],
    ['a runId of 65 bytes', (json) => (json.runId = 'r'.repeat(65))],
  ];

  it.each(shapeCases)('rejects %s with INVALID_FIELD', (_, mutate) => {
    const error = rejectionOf(detectionsCodec, withJson(mutate));

    expect(error.code).toBe('INVALID_FIELD');
  });

  it('names the offending field', () => {
    expect(rejectionOf(detectionsCodec, withJson((json) => (json.boxes[1].points[2][0] = 1.5))).message).toContain('boxes[1].points[2][0]');
  });

  it('refuses to encode a non-finite number, which JSON would silently turn into null', () => {
    const detections = makeDetections();
    detections.boxes[0].score = Number.NaN;

    expect(() => detectionsCodec.encode(detections)).toThrow(expect.objectContaining({ name: 'ProtocolError', code: 'INVALID_FIELD' }));
  });
});
