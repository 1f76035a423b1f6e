import { frameCodec, ProtocolError } from '@iev/frame-protocol';
import { codecFor, jsonCodec } from './codecs';

describe('jsonCodec', () => {
  it('round-trips JSON values as one part', () => {
    const parts = jsonCodec.encode({ n: 1, tags: ['a'] });

    expect(parts.map((part) => part.toString())).toEqual(['{"n":1,"tags":["a"]}']);
    expect(jsonCodec.decode(parts)).toEqual({ n: 1, tags: ['a'] });
  });

  it.each([
    ['two parts', [Buffer.from('1'), Buffer.from('2')], 'BAD_PART_COUNT'],
    ['text that is not JSON', [Buffer.from('{"n":')], 'INVALID_JSON'],
  ])('rejects %s with a ProtocolError', (_, parts, code) => {
    expect(() => jsonCodec.decode(parts)).toThrow(expect.objectContaining({ name: 'ProtocolError', code }));
  });

  it('refuses to encode a value JSON cannot represent', () => {
    expect(() => jsonCodec.encode(undefined)).toThrow(ProtocolError);
  });
});

describe('codecFor', () => {
  it('uses the configured codec and falls back to JSON, ignoring inherited keys', () => {
    const codecs = { frames: frameCodec };

    expect(codecFor(codecs, 'frames')).toBe(frameCodec);
    expect(codecFor(codecs, 'events')).toBe(jsonCodec);
    expect(codecFor(codecs, 'constructor')).toBe(jsonCodec);
    expect(codecFor(undefined, 'frames')).toBe(jsonCodec);
  });
});
