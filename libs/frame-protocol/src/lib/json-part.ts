import { decodeUtf8, expectPartCount, MessageKind, PREAMBLE_LENGTH, readPreamble, writePreamble } from './envelope';
import { ProtocolError } from './protocol-error';
import type { Codec } from './types';

/**
 * A message of `kind` as one ZeroMQ part: the binary preamble, then UTF-8 JSON. Both directions run `read`, which
 * checks every field and builds a fresh object of exactly the declared shape. A part over `maxPartBytes` is refused
 * before it is parsed: JSON.parse builds the whole document first. `name` names the kind in errors.
 */
export function jsonPartCodec<T>(kind: MessageKind, name: string, maxPartBytes: number, read: (value: unknown) => T): Codec<T> {
  const checkPartSize = (bytes: number) => {
    if (bytes > maxPartBytes) throw new ProtocolError('LENGTH_MISMATCH', `a ${name} part of ${bytes} bytes is more than the ${maxPartBytes} allowed`);
  };
  return {
    encode(value: T): Buffer[] {
      const json = JSON.stringify(read(value));
      const bytes = PREAMBLE_LENGTH + Buffer.byteLength(json, 'utf8');
      checkPartSize(bytes);
      const part = Buffer.alloc(bytes);
      writePreamble(part, kind);
      part.write(json, PREAMBLE_LENGTH, 'utf8');
      return [part];
    },

    decode(parts: Buffer[]): T {
      expectPartCount(parts, 1, kind);
      const [part] = parts;
      checkPartSize(part.length);
      readPreamble(part, kind);
      return read(parseJson(part.subarray(PREAMBLE_LENGTH), name));
    },
  };
}

function parseJson(body: Buffer, name: string): unknown {
  const text = decodeUtf8(body);
  if (text === undefined) throw new ProtocolError('INVALID_JSON', `${name} body is not valid UTF-8`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('INVALID_JSON', `${name} body is not JSON: ${(error as Error).message}`);
  }
}
