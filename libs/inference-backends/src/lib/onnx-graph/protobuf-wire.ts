/** Protobuf's wire types that ONNX files use: varint, 64-bit, length-delimited, 32-bit. */
export type WireType = 0 | 1 | 2 | 5;

/**
 * One field of a protobuf message as it is on the wire: its number, wire type and payload (a varint's bytes, a
 * length-delimited field's content, a fixed field's bytes). A field read and written back unchanged is the same
 * bytes, so a message can be edited field by field without a schema for the rest.
 */
export interface WireField {
  number: number;
  wireType: WireType;
  payload: Uint8Array;
}

/** The fields of a message, in order; payloads are views of `bytes`, not copies. */
export function readMessage(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarintAt(bytes, offset);
    offset = tag.end;
    const wireType = tag.value % 8;
    const number = Math.floor(tag.value / 8);
    let start = offset;
    if (wireType === 0) offset = readVarintAt(bytes, offset).end;
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else if (wireType === 2) {
      const length = readVarintAt(bytes, offset);
      start = length.end;
      offset = start + length.value;
    } else throw new RangeError(`protobuf wire type ${wireType} (field ${number}) is not one ONNX uses`);
    if (offset > bytes.length) throw new RangeError(`protobuf field ${number} runs past the end of its message`);
    fields.push({ number, wireType, payload: bytes.subarray(start, offset) });
  }
  return fields;
}

/** The message made of these fields, in this order. */
export function writeMessage(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { number, wireType, payload } of fields) {
    parts.push(encodeVarint(number * 8 + wireType));
    if (wireType === 2) parts.push(encodeVarint(payload.length));
    parts.push(payload);
  }
  const message = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    message.set(part, offset);
    offset += part.length;
  }
  return message;
}

export const varintField = (number: number, value: number): WireField => ({ number, wireType: 0, payload: encodeVarint(value) });
export const bytesField = (number: number, payload: Uint8Array): WireField => ({ number, wireType: 2, payload });
export const stringField = (number: number, text: string): WireField => bytesField(number, new TextEncoder().encode(text));
export const float32Field = (number: number, value: number): WireField => ({ number, wireType: 5, payload: new Uint8Array(Float32Array.of(value).buffer) });

/** A varint field's value (non-negative, below 2^53: sizes, counts, enums). */
export const varintValue = (field: WireField): number => readVarintAt(field.payload, 0).value;
export const stringValue = (field: WireField): string => new TextDecoder().decode(field.payload);
export const float32Value = (field: WireField): number => new DataView(field.payload.buffer, field.payload.byteOffset, 4).getFloat32(0, true);

/** The values of a repeated varint field, whether written packed (one length-delimited field) or one field each. */
export function packedVarints(fields: readonly WireField[]): number[] {
  const values: number[] = [];
  for (const field of fields) {
    if (field.wireType === 0) values.push(varintValue(field));
    else for (let offset = 0; offset < field.payload.length; ) {
      const varint = readVarintAt(field.payload, offset);
      values.push(varint.value);
      offset = varint.end;
    }
  }
  return values;
}

function readVarintAt(bytes: Uint8Array, offset: number): { value: number; end: number } {
  let value = 0;
  let scale = 1;
  for (let at = offset; at < bytes.length && at < offset + 10; at++) {
    value += (bytes[at] & 0x7f) * scale;
    scale *= 128;
    if (bytes[at] < 0x80) return { value, end: at + 1 };
  }
  throw new RangeError(`no protobuf varint ends at byte ${offset}`);
}

function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a varint here is a whole number from 0 to 2^53 (got ${value})`);
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Uint8Array.from(bytes);
}
