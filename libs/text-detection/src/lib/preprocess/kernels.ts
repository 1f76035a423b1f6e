// The per-pixel work of preprocessing, as WebAssembly SIMD: 640x480 -> 960x960 + normalize takes
// about 5 ms in the best plain JS we could write (bounds checks, no SIMD) and 1.6 ms here.
// The arithmetic is OpenCV's fixed-point INTER_LINEAR for 8-bit images (resize.cpp: HResizeLinear,
// then the VResizeLinear specialisation for uchar with its SIMD twin VResizeLinearVec_32s8u), and
// PaddleOCR's NormalizeImage in float32.
import {
  buildModule,
  f32,
  f32x4,
  i32,
  i32x4,
  i8x16,
  local,
  v128,
  valueType,
  whileLoop,
  type Expr,
  type FunctionDefinition,
  type ValueType,
} from '../wasm/wasm-builder';
import { instanceFactory, type WasmMemory } from '../wasm/wasm-runtime';

/**
 * The horizontal pass's table has, per destination column, the byte offset of the left source pixel
 * (int32) and, at COLUMN_WEIGHTS_OFFSET, the weights as int16 lanes: left, right, left, right,
 * left, right, 0, 0. The right pixel is always read from next to the left one: at the right border
 * its weight is 0, so the bytes past the row only need to be addressable (SOURCE_OVERRUN_BYTES).
 */
export const COLUMN_TAP_BYTES = 32;
export const COLUMN_WEIGHTS_OFFSET = 16;
/** Bytes the horizontal pass (and normalizeBgr) may read past the last pixel of a source image. */
export const SOURCE_OVERRUN_BYTES = 5;
/** The horizontal pass keeps (weighted sum >> 4) per channel in one int32 per destination column. */
export const ROW_SAMPLE_BYTES = 4;

export interface Kernels {
  readonly memory: WasmMemory;
  /**
   * Horizontal pass over one BGR source row into three planar int32 rows (B, G, R, each
   * `planeBytes` apart) of `(left * leftWeight + right * rightWeight) >> 4`, one per column tap.
   */
  resizeRowHorizontally(sourceRow: number, taps: number, tapsEnd: number, out: number, planeBytes: number): void;
  /** Vertical pass of one channel into uint8 samples `outStep` bytes apart. */
  blendRowsToU8(
    top: number,
    bottom: number,
    out: number,
    count: number,
    outStep: number,
    topWeight: number,
    bottomWeight: number,
  ): void;
  /** Vertical pass of one channel into float32 `(value * scale - mean) / std`. */
  blendRowsNormalized(
    top: number,
    bottom: number,
    out: number,
    count: number,
    topWeight: number,
    bottomWeight: number,
    scale: number,
    mean: number,
    std: number,
  ): void;
  /**
   * A BGR image of the network's own size straight into float32 planes (B, G, R, each `planeBytes` apart) of
   * `(value * scale - mean) / std`: what a resize to the same size then normalizing gives, without the resize.
   * Reads up to 4 bytes past the last pixel (within SOURCE_OVERRUN_BYTES).
   */
  normalizeBgr(
    source: number,
    sourceStride: number,
    width: number,
    height: number,
    out: number,
    planeBytes: number,
    scale: number,
    mean0: number,
    mean1: number,
    mean2: number,
    std0: number,
    std1: number,
    std2: number,
  ): void;
}

/** The instructions for one lane width: one int32/float32 sample, or four at a time. */
interface Lanes {
  bytes: number;
  load(address: Expr): Expr;
  store(address: Expr, value: Expr): Expr;
  splat(value: number): Expr;
  mul(a: Expr, b: Expr): Expr;
  add(a: Expr, b: Expr): Expr;
  shrS(a: Expr, bits: number): Expr;
  toFloat(a: Expr): Expr;
  floatMul(a: Expr, b: Expr): Expr;
  floatSub(a: Expr, b: Expr): Expr;
  floatDiv(a: Expr, b: Expr): Expr;
}

const scalar: Lanes = {
  bytes: ROW_SAMPLE_BYTES,
  load: i32.load,
  store: f32.store,
  splat: i32.const,
  mul: i32.mul,
  add: i32.add,
  shrS: i32.shrS,
  toFloat: f32.convertI32S,
  floatMul: f32.mul,
  floatSub: f32.sub,
  floatDiv: f32.div,
};

const vector: Lanes = {
  bytes: 4 * ROW_SAMPLE_BYTES,
  load: v128.load,
  store: v128.store,
  splat: (value) => i32x4.splat(i32.const(value)),
  mul: i32x4.mul,
  add: i32x4.add,
  shrS: i32x4.shrS,
  toFloat: f32x4.convertI32x4S,
  floatMul: f32x4.mul,
  floatSub: f32x4.sub,
  floatDiv: f32x4.div,
};

/**
 * OpenCV's vertical blend for 8-bit output, from row samples already shifted right by 4:
 * `((w0 * top) >> 16) + ((w1 * bottom) >> 16) + 2) >> 2`. Each weighted row is floored on its
 * own, which is what OpenCV computes (not the rounded 22-bit sum).
 */
function verticalBlend(lanes: Lanes, top: Expr, bottom: Expr, topWeight: Expr, bottomWeight: Expr): Expr {
  const weighted = (sample: Expr, weight: Expr): Expr => lanes.shrS(lanes.mul(sample, weight), 16);
  return lanes.shrS(lanes.add(lanes.add(weighted(top, topWeight), weighted(bottom, bottomWeight)), lanes.splat(2)), 2);
}

/** PaddleOCR NormalizeImage in float32: `(value * scale - mean) / std`. */
function normalize(lanes: Lanes, value: Expr, scale: Expr, mean: Expr, std: Expr): Expr {
  return lanes.floatDiv(lanes.floatSub(lanes.floatMul(lanes.toFloat(value), scale), mean), std);
}

function resizeRowHorizontally(): FunctionDefinition {
  const [sourceRow, taps, tapsEnd, out, planeBytes, out1, out2, sums] = [0, 1, 2, 3, 4, 5, 6, 7];
  // Bytes B G R B' G' R' of a pixel and its right neighbour, as 16-bit lanes B B' G G' R R' 0 0.
  const pixelPair = i8x16.shuffle(
    v128.load64Zero(i32.add(local.get(sourceRow), i32.load(local.get(taps)))),
    v128.zero(),
    [0, 16, 3, 16, 1, 16, 4, 16, 2, 16, 5, 16, 16, 16, 16, 16],
  );
  return {
    name: 'resizeRowHorizontally',
    params: Array<ValueType>(5).fill(valueType.i32),
    locals: [valueType.i32, valueType.i32, valueType.v128],
    body: [
      ...local.set(out1, i32.add(local.get(out), local.get(planeBytes))),
      ...local.set(out2, i32.add(local.get(out1), local.get(planeBytes))),
      ...whileLoop(i32.ltU(local.get(taps), local.get(tapsEnd)), [
        // B G R sums (and a zero lane) for this column, shifted as VResizeLinear wants them.
        local.set(sums, i32x4.shrS(i32x4.dotI16x8S(pixelPair, v128.load(local.get(taps), COLUMN_WEIGHTS_OFFSET)), 4)),
        v128.store32Lane(local.get(out), local.get(sums), 0),
        v128.store32Lane(local.get(out1), local.get(sums), 1),
        v128.store32Lane(local.get(out2), local.get(sums), 2),
        local.increment(taps, COLUMN_TAP_BYTES),
        local.increment(out, ROW_SAMPLE_BYTES),
        local.increment(out1, ROW_SAMPLE_BYTES),
        local.increment(out2, ROW_SAMPLE_BYTES),
      ]),
    ],
  };
}

function blendRowsToU8(): FunctionDefinition {
  const [top, bottom, out, count, outStep, topWeight, bottomWeight, end] = [0, 1, 2, 3, 4, 5, 6, 7];
  const blended = verticalBlend(
    scalar,
    i32.load(local.get(top)),
    i32.load(local.get(bottom)),
    local.get(topWeight),
    local.get(bottomWeight),
  );
  return {
    name: 'blendRowsToU8',
    params: Array<ValueType>(7).fill(valueType.i32),
    locals: [valueType.i32],
    body: [
      ...local.set(end, i32.add(local.get(out), i32.mul(local.get(count), local.get(outStep)))),
      ...whileLoop(i32.ltU(local.get(out), local.get(end)), [
        i32.store8(local.get(out), blended),
        local.increment(top, ROW_SAMPLE_BYTES),
        local.increment(bottom, ROW_SAMPLE_BYTES),
        local.set(out, i32.add(local.get(out), local.get(outStep))),
      ]),
    ],
  };
}

/** Locals holding the blend weights and normalization constants, as scalars or splatted vectors. */
interface BlendOperands {
  topWeight: number;
  bottomWeight: number;
  scale: number;
  mean: number;
  std: number;
}

function blendRowsNormalized(): FunctionDefinition {
  const [top, bottom, out, count] = [0, 1, 2, 3];
  const params: BlendOperands = { topWeight: 4, bottomWeight: 5, scale: 6, mean: 7, std: 8 };
  const [end, vectorEnd] = [9, 10];
  const splats: BlendOperands = { topWeight: 11, bottomWeight: 12, scale: 13, mean: 14, std: 15 };
  const blendLoop = (lanes: Lanes, until: number, operands: BlendOperands): Expr => {
    const blended = verticalBlend(
      lanes,
      lanes.load(local.get(top)),
      lanes.load(local.get(bottom)),
      local.get(operands.topWeight),
      local.get(operands.bottomWeight),
    );
    return whileLoop(i32.ltU(local.get(out), local.get(until)), [
      lanes.store(local.get(out), normalize(lanes, blended, local.get(operands.scale), local.get(operands.mean), local.get(operands.std))),
      local.increment(top, lanes.bytes),
      local.increment(bottom, lanes.bytes),
      local.increment(out, lanes.bytes),
    ]);
  };
  return {
    name: 'blendRowsNormalized',
    params: [...Array<ValueType>(6).fill(valueType.i32), valueType.f32, valueType.f32, valueType.f32],
    locals: [valueType.i32, valueType.i32, ...Array<ValueType>(5).fill(valueType.v128)],
    body: [
      ...local.set(end, i32.add(local.get(out), i32.shl(local.get(count), 2))),
      ...local.set(vectorEnd, i32.add(local.get(out), i32.shl(i32.and(local.get(count), i32.const(-4)), 2))),
      ...local.set(splats.topWeight, i32x4.splat(local.get(params.topWeight))),
      ...local.set(splats.bottomWeight, i32x4.splat(local.get(params.bottomWeight))),
      ...local.set(splats.scale, f32x4.splat(local.get(params.scale))),
      ...local.set(splats.mean, f32x4.splat(local.get(params.mean))),
      ...local.set(splats.std, f32x4.splat(local.get(params.std))),
      // Four samples at a time, then the rest one by one.
      ...blendLoop(vector, vectorEnd, splats),
      ...blendLoop(scalar, end, params),
    ],
  };
}

function normalizeBgr(): FunctionDefinition {
  const [source, sourceStride, width, height, out, planeBytes, scale] = [0, 1, 2, 3, 4, 5, 6];
  const means = [7, 8, 9];
  const stds = [10, 11, 12];
  const [outEnd, rowOutEnd, pixel, vectorEnd, out1, out2] = [13, 14, 15, 16, 17, 18];
  const [scaleLanes, pixels] = [19, 20];
  const meanLanes = [21, 22, 23];
  const stdLanes = [24, 25, 26];
  const outs = [out, out1, out2];
  // Channel c of four BGR pixels (12 bytes), zero-extended into 32-bit lanes.
  const channelOfFour = (c: number) => i8x16.shuffle(local.get(pixels), v128.zero(), [c, 16, 16, 16, c + 3, 16, 16, 16, c + 6, 16, 16, 16, c + 9, 16, 16, 16]);
  const advanceOuts = (by: number) => outs.map((index) => local.increment(index, by));
  return {
    name: 'normalizeBgr',
    params: [...Array<ValueType>(6).fill(valueType.i32), ...Array<ValueType>(7).fill(valueType.f32)],
    locals: [...Array<ValueType>(6).fill(valueType.i32), ...Array<ValueType>(8).fill(valueType.v128)],
    body: [
      ...local.set(scaleLanes, f32x4.splat(local.get(scale))),
      ...[0, 1, 2].flatMap((c) => [...local.set(meanLanes[c], f32x4.splat(local.get(means[c]))), ...local.set(stdLanes[c], f32x4.splat(local.get(stds[c])))]),
      ...local.set(out1, i32.add(local.get(out), local.get(planeBytes))),
      ...local.set(out2, i32.add(local.get(out1), local.get(planeBytes))),
      ...local.set(outEnd, i32.add(local.get(out), i32.shl(i32.mul(local.get(width), local.get(height)), 2))),
      ...whileLoop(i32.ltU(local.get(out), local.get(outEnd)), [
        local.set(pixel, local.get(source)),
        local.set(vectorEnd, i32.add(local.get(source), i32.mul(i32.and(local.get(width), i32.const(-4)), i32.const(3)))),
        local.set(rowOutEnd, i32.add(local.get(out), i32.shl(local.get(width), 2))),
        // Four pixels at a time, then the rest one by one.
        whileLoop(i32.ltU(local.get(pixel), local.get(vectorEnd)), [
          local.set(pixels, v128.load(local.get(pixel))),
          ...[0, 1, 2].map((c) =>
            v128.store(local.get(outs[c]), normalize(vector, channelOfFour(c), local.get(scaleLanes), local.get(meanLanes[c]), local.get(stdLanes[c]))),
          ),
          local.increment(pixel, 12),
          ...advanceOuts(16),
        ]),
        whileLoop(i32.ltU(local.get(out), local.get(rowOutEnd)), [
          ...[0, 1, 2].map((c) => f32.store(local.get(outs[c]), normalize(scalar, i32.load8U(local.get(pixel), c), local.get(scale), local.get(means[c]), local.get(stds[c])))),
          local.increment(pixel, 3),
          ...advanceOuts(4),
        ]),
        local.set(source, i32.add(local.get(source), local.get(sourceStride))),
      ]),
    ],
  };
}

/** A fresh kernel instance with its own memory. */
export const createKernels = instanceFactory<Kernels>(() => buildModule([resizeRowHorizontally(), blendRowsToU8(), blendRowsNormalized(), normalizeBgr()]));
