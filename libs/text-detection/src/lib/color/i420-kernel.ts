// I420 to BGR24 (or RGB24) as WebAssembly SIMD, 16 pixels a step: 0.34 ms a 640x480 frame with its copies in and out
// (1.0 ms at 1280x720), where the plainest JavaScript with tables took 1.25 ms. Of the matrix and range given, in 16-bit
// fixed point: each term is a Q15 multiply (rounded) scaled to 6 fractional bits, the sum rounded and saturated.
import { buildModule, i16x8, i32, i8x16, local, v128, valueType, whileLoop, type Expr, type ValueType } from '../wasm/wasm-builder';
import { instanceFactory, type WasmMemory } from '../wasm/wasm-runtime';

/**
 * A matrix and range as the luma's black level and Q15 multipliers. Y - yOffset is shifted left by 7 before its
 * multiply, U - 128 by 8 for blue (whose factor, 1.77 to 2.2, does not fit Q14) and by 7 elsewhere, so that every
 * product comes out as the term times 64.
 */
export interface I420Coefficients {
  yOffset: number;
  y: number;
  blueU: number;
  greenU: number;
  greenV: number;
  redV: number;
}

/**
 * The multipliers of the matrix with luma weights `kr` and `kb` (ITU-R BT.601: 0.299 and 0.114; BT.709: 0.2126 and
 * 0.0722): for Y in [16, 235] and U, V in [16, 240], or where `fullRange`, all three in [0, 255].
 */
export function i420Coefficients(kr: number, kb: number, fullRange: boolean): I420Coefficients {
  const kg = 1 - kr - kb;
  const [luma, chroma] = fullRange ? [1, 1] : [255 / 219, 255 / 224];
  return {
    yOffset: fullRange ? 0 : 16,
    y: Math.round(luma * 2 ** 14),
    blueU: Math.round(2 * (1 - kb) * chroma * 2 ** 13),
    greenU: -Math.round(((2 * kb * (1 - kb)) / kg) * chroma * 2 ** 14),
    greenV: -Math.round(((2 * kr * (1 - kr)) / kg) * chroma * 2 ** 14),
    redV: Math.round(2 * (1 - kr) * chroma * 2 ** 14),
  };
}

/** Pixels one step converts. A row is converted in whole steps: up to 15 pixels past its width are read and written. */
export const I420_STEP_PIXELS = 16;
/** Bytes the kernel may read past the end of a plane's last row, and write past the end of the last output row. */
export const I420_OVERRUN_BYTES = { source: I420_STEP_PIXELS, output: I420_STEP_PIXELS * 3 };

export interface I420Kernel {
  readonly memory: WasmMemory;
  /**
   * Converts `height` rows of `width` pixels from Y, U and V planes into interleaved 8-bit rows `outStride` apart:
   * B, G, R, or R, G, B where `rgb` is non-zero, with the matrix's black level and multipliers (I420Coefficients, in
   * its order).
   */
  i420ToBgr(
    y: number,
    u: number,
    v: number,
    yStride: number,
    chromaStride: number,
    width: number,
    height: number,
    out: number,
    outStride: number,
    rgb: number,
    ...coefficients: [yOffset: number, y: number, blueU: number, greenU: number, greenV: number, redV: number]
  ): void;
}

/** The byte lanes that interleave three 16-byte channels (B, G, R) into output vector `part` (0-2) of 48 bytes, in two shuffles. */
function interleaveLanes(part: number): { firstTwo: number[]; third: number[] } {
  const firstTwo: number[] = [];
  const third: number[] = [];
  for (let lane = 0; lane < 16; lane++) {
    const byte = part * 16 + lane;
    const [pixel, channel] = [Math.floor(byte / 3), byte % 3];
    firstTwo.push(channel === 2 ? 0 : channel * 16 + pixel);
    third.push(channel === 2 ? 16 + pixel : lane);
  }
  return { firstTwo, third };
}

function i420ToBgr() {
  const [y, u, v, yStride, chromaStride, width, height, out, outStride, rgb] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const coefficientParams = [10, 11, 12, 13, 14, 15];
  const [row, yAt, uAt, vAt, outAt, rowOutEnd] = [16, 17, 18, 19, 20, 21];
  // v128: the step's Y, U and V (each chroma byte twice); per half (low 8 pixels, high 8) the luma term and the
  // centred U and V; then the channels, and which of blue and red goes first; last the black level and the
  // multipliers, in every lane.
  const [luma, uPairs, vPairs, half0, half1, blue, green, red, first, last] = [22, 23, 24, 25, 28, 31, 32, 33, 34, 35];
  const [yOffset, yFactor, blueU, greenU, greenV, redV] = [36, 37, 38, 39, 40, 41];
  const constant = (value: number): Expr => i16x8.splat(i32.const(value));
  // Each chroma byte stands for two pixels side by side.
  const chromaPairs = (address: number): Expr => {
    const eight = v128.load64Zero(local.get(address));
    return i8x16.shuffle(eight, v128.zero(), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
  };
  const extend = (high: boolean, a: Expr): Expr => (high ? i16x8.extendHighI8x16U(a) : i16x8.extendLowI8x16U(a));
  /** The luma term and centred chroma of one half, into three locals from `at`. */
  const halfTerms = (high: boolean, at: number): Expr[] => [
    local.set(at, i16x8.q15mulrSatS(i16x8.shl(i16x8.sub(extend(high, local.get(luma)), local.get(yOffset)), 7), local.get(yFactor))),
    local.set(at + 1, i16x8.sub(extend(high, local.get(uPairs)), constant(128))),
    local.set(at + 2, i16x8.sub(extend(high, local.get(vPairs)), constant(128))),
  ];
  /** (luma + terms + 32) >> 6, each sum saturating: what is past 8 bits saturates again in the narrowing. */
  const channel = (at: number, terms: Expr[]): Expr => i16x8.shrS(i16x8.addSatS([local.get(at), ...terms].reduce((sum, term) => i16x8.addSatS(sum, term)), constant(32)), 6);
  const blueOf = (at: number) => channel(at, [i16x8.q15mulrSatS(i16x8.shl(local.get(at + 1), 8), local.get(blueU))]);
  const greenOf = (at: number) =>
    channel(at, [
      i16x8.q15mulrSatS(i16x8.shl(local.get(at + 1), 7), local.get(greenU)),
      i16x8.q15mulrSatS(i16x8.shl(local.get(at + 2), 7), local.get(greenV)),
    ]);
  const redOf = (at: number) => channel(at, [i16x8.q15mulrSatS(i16x8.shl(local.get(at + 2), 7), local.get(redV))]);
  const interleaved = (part: number): Expr => {
    const { firstTwo, third } = interleaveLanes(part);
    return i8x16.shuffle(i8x16.shuffle(local.get(first), local.get(green), firstTwo), local.get(last), third);
  };
  const chromaRow = (plane: number): Expr => i32.add(local.get(plane), i32.mul(i32.shrS(local.get(row), 1), local.get(chromaStride)));
  return {
    name: 'i420ToBgr',
    params: Array<ValueType>(16).fill(valueType.i32),
    locals: [...Array<ValueType>(6).fill(valueType.i32), ...Array<ValueType>(20).fill(valueType.v128)],
    body: [
      ...coefficientParams.flatMap((param, index) => local.set(yOffset + index, i16x8.splat(local.get(param)))),
      ...whileLoop(i32.ltU(local.get(row), local.get(height)), [
        local.set(yAt, i32.add(local.get(y), i32.mul(local.get(row), local.get(yStride)))),
        local.set(uAt, chromaRow(u)),
        local.set(vAt, chromaRow(v)),
        local.set(outAt, i32.add(local.get(out), i32.mul(local.get(row), local.get(outStride)))),
        local.set(rowOutEnd, i32.add(local.get(outAt), i32.mul(local.get(width), i32.const(3)))),
        whileLoop(i32.ltU(local.get(outAt), local.get(rowOutEnd)), [
          local.set(luma, v128.load(local.get(yAt))),
          local.set(uPairs, chromaPairs(uAt)),
          local.set(vPairs, chromaPairs(vAt)),
          ...halfTerms(false, half0),
          ...halfTerms(true, half1),
          local.set(blue, i8x16.narrowI16x8U(blueOf(half0), blueOf(half1))),
          local.set(green, i8x16.narrowI16x8U(greenOf(half0), greenOf(half1))),
          local.set(red, i8x16.narrowI16x8U(redOf(half0), redOf(half1))),
          local.set(first, v128.select(local.get(red), local.get(blue), local.get(rgb))),
          local.set(last, v128.select(local.get(blue), local.get(red), local.get(rgb))),
          ...[0, 1, 2].map((part) => v128.store(local.get(outAt), interleaved(part), part * 16)),
          local.increment(yAt, I420_STEP_PIXELS),
          local.increment(uAt, I420_STEP_PIXELS / 2),
          local.increment(vAt, I420_STEP_PIXELS / 2),
          local.increment(outAt, I420_STEP_PIXELS * 3),
        ]),
        local.increment(row, 1),
      ]),
    ],
  };
}

/** A fresh kernel instance with its own memory. */
export const createI420Kernel = instanceFactory<I420Kernel>(() => buildModule([i420ToBgr()]));
