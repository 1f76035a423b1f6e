// A minimal WebAssembly binary writer: just what the pre- and postprocessing kernels use. Instructions are
// written in the folded form of the text format (operands first), e.g. `i32.add(local.get(0), i32.const(1))`.
// Opcodes: https://webassembly.github.io/spec/core/binary/instructions.html

/** Encoded instructions. */
export type Expr = number[];

export const valueType = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export type ValueType = (typeof valueType)[keyof typeof valueType];

export interface FunctionDefinition {
  name: string;
  params: ValueType[];
  locals: ValueType[];
  body: Expr;
}

function unsignedLeb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb128(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const vector = (items: number[][]): number[] => [...unsignedLeb128(items.length), ...items.flat()];
const section = (id: number, items: number[][]): number[] => {
  const content = vector(items);
  return [id, ...unsignedLeb128(content.length), ...content];
};
const name = (text: string): number[] => vector([...Buffer.from(text, 'utf8')].map((byte) => [byte]));

/** Memory access immediates: log2 of the alignment hint, then the constant offset. */
const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...unsignedLeb128(offset)];
const simd = (opcode: number): number[] => [0xfd, ...unsignedLeb128(opcode)];

export const local = {
  get: (index: number): Expr => [0x20, ...unsignedLeb128(index)],
  set: (index: number, value: Expr): Expr => [...value, 0x21, ...unsignedLeb128(index)],
  /** Adds a constant to an i32 local: a pointer or counter stepping on. */
  increment: (index: number, by: number): Expr => local.set(index, i32.add(local.get(index), i32.const(by))),
};

export const i32 = {
  const: (value: number): Expr => [0x41, ...signedLeb128(value)],
  load: (address: Expr, offset = 0): Expr => [...address, 0x28, ...memarg(2, offset)],
  load8U: (address: Expr, offset = 0): Expr => [...address, 0x2d, ...memarg(0, offset)],
  store8: (address: Expr, value: Expr, offset = 0): Expr => [...address, ...value, 0x3a, ...memarg(0, offset)],
  eqz: (a: Expr): Expr => [...a, 0x45],
  ltU: (a: Expr, b: Expr): Expr => [...a, ...b, 0x49],
  add: (a: Expr, b: Expr): Expr => [...a, ...b, 0x6a],
  mul: (a: Expr, b: Expr): Expr => [...a, ...b, 0x6c],
  and: (a: Expr, b: Expr): Expr => [...a, ...b, 0x71],
  or: (a: Expr, b: Expr): Expr => [...a, ...b, 0x72],
  shl: (a: Expr, bits: number): Expr => [...a, ...i32.const(bits), 0x74],
  shrS: (a: Expr, bits: number): Expr => [...a, ...i32.const(bits), 0x75],
};

export const f32 = {
  load: (address: Expr, offset = 0): Expr => [...address, 0x2a, ...memarg(2, offset)],
  /** 1 when a > b, else 0 (NaN compares false). */
  gt: (a: Expr, b: Expr): Expr => [...a, ...b, 0x5e],
  store: (address: Expr, value: Expr, offset = 0): Expr => [...address, ...value, 0x38, ...memarg(2, offset)],
  sub: (a: Expr, b: Expr): Expr => [...a, ...b, 0x93],
  mul: (a: Expr, b: Expr): Expr => [...a, ...b, 0x94],
  div: (a: Expr, b: Expr): Expr => [...a, ...b, 0x95],
  convertI32S: (a: Expr): Expr => [...a, 0xb2],
};

export const v128 = {
  load: (address: Expr, offset = 0): Expr => [...address, ...simd(0x00), ...memarg(4, offset)],
  /** Loads 8 bytes into the low half, zeroing the high half. */
  load64Zero: (address: Expr, offset = 0): Expr => [...address, ...simd(0x5d), ...memarg(3, offset)],
  store: (address: Expr, value: Expr, offset = 0): Expr => [...address, ...value, ...simd(0x0b), ...memarg(4, offset)],
  store32Lane: (address: Expr, value: Expr, lane: number): Expr => [...address, ...value, ...simd(0x5a), ...memarg(2, 0), lane],
  zero: (): Expr => [...simd(0x0c), ...new Array<number>(16).fill(0)],
  /** `a` where `condition` (an i32) is non-zero, else `b`. */
  select: (a: Expr, b: Expr, condition: Expr): Expr => [...a, ...b, ...condition, 0x1b],
  or: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x50)],
  /** 1 when any bit is set, else 0. */
  anyTrue: (a: Expr): Expr => [...a, ...simd(0x53)],
};

export const i8x16 = {
  /** Picks 16 bytes by index from `a` (0-15) and `b` (16-31). */
  shuffle: (a: Expr, b: Expr, lanes: number[]): Expr => [...a, ...b, ...simd(0x0d), ...lanes],
  neg: (a: Expr): Expr => [...a, ...simd(0x61)],
  /** Signed 16-bit lanes of `a` then `b` into 8-bit lanes, saturating. */
  narrowI16x8S: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x65)],
  /** Signed 16-bit lanes of `a` then `b` into unsigned 8-bit lanes, saturating to 0-255. */
  narrowI16x8U: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x66)],
};

export const i16x8 = {
  splat: (a: Expr): Expr => [...a, ...simd(0x10)],
  /** `(a * b + 0x4000) >> 15` per signed lane, saturating: a multiply by a Q15 fraction, rounded. */
  q15mulrSatS: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x82)],
  /** Signed 32-bit lanes of `a` then `b` into 16-bit lanes, saturating. */
  narrowI32x4S: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x85)],
  /** The low (or high) eight unsigned 8-bit lanes, zero-extended. */
  extendLowI8x16U: (a: Expr): Expr => [...a, ...simd(0x89)],
  extendHighI8x16U: (a: Expr): Expr => [...a, ...simd(0x8a)],
  shl: (a: Expr, bits: number): Expr => [...a, ...i32.const(bits), ...simd(0x8b)],
  shrS: (a: Expr, bits: number): Expr => [...a, ...i32.const(bits), ...simd(0x8c)],
  addSatS: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x8f)],
  sub: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x91)],
};

export const i32x4 = {
  splat: (a: Expr): Expr => [...a, ...simd(0x11)],
  shrS: (a: Expr, bits: number): Expr => [...a, ...i32.const(bits), ...simd(0xac)],
  add: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xae)],
  mul: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xb5)],
  /** Multiplies signed 16-bit lanes and adds adjacent pairs of products into 32-bit lanes. */
  dotI16x8S: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xba)],
};

export const f32x4 = {
  splat: (a: Expr): Expr => [...a, ...simd(0x13)],
  /** All ones in each lane where a > b, else zero (NaN compares false). */
  gt: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0x44)],
  sub: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xe5)],
  mul: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xe6)],
  div: (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(0xe7)],
  convertI32x4S: (a: Expr): Expr => [...a, ...simd(0xfa)],
};

/** `while (condition) body`, as block + loop with the test at both ends. */
export function whileLoop(condition: Expr, body: Expr[]): Expr {
  const branchIf = (depth: number): number[] => [0x0d, depth];
  return [
    ...[0x02, 0x40], // block
    ...i32.eqz(condition),
    ...branchIf(0), // leave the block
    ...[0x03, 0x40], // loop
    ...body.flat(),
    ...condition,
    ...branchIf(0), // repeat the loop
    0x0b, // end loop
    0x0b, // end block
  ];
}

/** A module exporting the given functions and its own memory (one page to start) as `memory`. */
export function buildModule(functions: FunctionDefinition[]): Uint8Array {
  const types = functions.map((fn) => [0x60, ...vector(fn.params.map((type) => [type])), ...vector([])]);
  const functionTypeIndices = functions.map((_, index) => unsignedLeb128(index));
  const memories = [[0x00, ...unsignedLeb128(1)]];
  const exports = [
    ...functions.map((fn, index) => [...name(fn.name), 0x00, ...unsignedLeb128(index)]),
    [...name('memory'), 0x02, 0x00],
  ];
  const bodies = functions.map((fn) => {
    const body = [...vector(fn.locals.map((type) => [0x01, type])), ...fn.body, 0x0b];
    return [...unsignedLeb128(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, types),
    ...section(3, functionTypeIndices),
    ...section(5, memories),
    ...section(7, exports),
    ...section(10, bodies),
  ]);
}
