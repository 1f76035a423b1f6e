import { ProtocolError, type Codec } from '@iev/frame-protocol';

/** The codec for patterns without one: the event's data as a single UTF-8 JSON part. */
export const jsonCodec: Codec<unknown> = {
  encode(value: unknown): Buffer[] {
    const json = JSON.stringify(value);
    if (json === undefined) throw new ProtocolError('INVALID_FIELD', `${typeof value} has no JSON representation`);
    return [Buffer.from(json, 'utf8')];
  },

  decode(parts: Buffer[]): unknown {
    if (parts.length !== 1) throw new ProtocolError('BAD_PART_COUNT', `JSON messages have 1 part, got ${parts.length}`);
    try {
      return JSON.parse(parts[0].toString('utf8'));
    } catch (error) {
      throw new ProtocolError('INVALID_JSON', `message is not JSON: ${(error as Error).message}`);
    }
  },
};

/** The codec configured for `pattern`, JSON otherwise; own keys only, so a pattern like "constructor" is safe. */
export function codecFor(codecs: Record<string, Codec<unknown>> | undefined, pattern: string): Codec<unknown> {
  return codecs !== undefined && Object.hasOwn(codecs, pattern) ? codecs[pattern] : jsonCodec;
}
