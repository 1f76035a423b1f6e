// The probability map's threshold as WebAssembly SIMD: the one pass of DB postprocessing that touches every
// pixel. Sixteen comparisons per step where the best plain JavaScript does one at a time; where the map is
// already in the kernel's memory (the model wrote it there) it is not even copied.
import { buildModule, f32, f32x4, i16x8, i32, i8x16, local, v128, valueType, whileLoop, type FunctionDefinition, type ValueType } from '../wasm/wasm-builder';
import { instanceFactory, type WasmMemory } from '../wasm/wasm-runtime';

export interface ThresholdKernel {
  readonly memory: WasmMemory;
  /**
   * For each of `height` rows of `width` float32 values from `map`: `value > threshold` as bytes 1/0 into a row
   * starting at `out` (rows `stride` bytes apart), and whether the row has any 1 as a byte at `rowFlags + y`.
   */
  threshold(map: number, width: number, height: number, threshold: number, out: number, stride: number, rowFlags: number): void;
}

const BYTES_PER_VALUE = 4;
/** Values per vector step: four f32x4 comparisons narrowed into one i8x16 of 0/1. */
const STEP = 16;

function threshold(): FunctionDefinition {
  const [map, width, height, limit, out, stride, rowFlags] = [0, 1, 2, 3, 4, 5, 6];
  const [mapEnd, rowEnd, vectorEnd, target, any, bit, limits, anyLane, bytes] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
  const above = (offset: number) => f32x4.gt(v128.load(local.get(map), offset), local.get(limits));
  return {
    name: 'threshold',
    params: [valueType.i32, valueType.i32, valueType.i32, valueType.f32, valueType.i32, valueType.i32, valueType.i32],
    locals: [...Array<ValueType>(6).fill(valueType.i32), ...Array<ValueType>(3).fill(valueType.v128)],
    body: [
      ...local.set(limits, f32x4.splat(local.get(limit))),
      ...local.set(mapEnd, i32.add(local.get(map), i32.shl(i32.mul(local.get(width), local.get(height)), 2))),
      ...whileLoop(i32.ltU(local.get(map), local.get(mapEnd)), [
        local.set(rowEnd, i32.add(local.get(map), i32.shl(local.get(width), 2))),
        local.set(vectorEnd, i32.add(local.get(map), i32.shl(i32.and(local.get(width), i32.const(-STEP)), 2))),
        local.set(target, local.get(out)),
        local.set(anyLane, v128.zero()),
        whileLoop(i32.ltU(local.get(map), local.get(vectorEnd)), [
          // Each comparison is -1/0 per 32-bit lane; narrowing keeps that per byte, negation makes it 1/0.
          local.set(bytes, i8x16.neg(i8x16.narrowI16x8S(i16x8.narrowI32x4S(above(0), above(16)), i16x8.narrowI32x4S(above(32), above(48))))),
          v128.store(local.get(target), local.get(bytes)),
          local.set(anyLane, v128.or(local.get(anyLane), local.get(bytes))),
          local.increment(map, STEP * BYTES_PER_VALUE),
          local.increment(target, STEP),
        ]),
        local.set(any, v128.anyTrue(local.get(anyLane))),
        whileLoop(i32.ltU(local.get(map), local.get(rowEnd)), [
          local.set(bit, f32.gt(f32.load(local.get(map)), local.get(limit))),
          i32.store8(local.get(target), local.get(bit)),
          local.set(any, i32.or(local.get(any), local.get(bit))),
          local.increment(map, BYTES_PER_VALUE),
          local.increment(target, 1),
        ]),
        i32.store8(local.get(rowFlags), local.get(any)),
        local.increment(rowFlags, 1),
        local.set(out, i32.add(local.get(out), local.get(stride))),
      ]),
    ],
  };
}

/** A fresh threshold kernel with its own memory. */
export const createThresholdKernel = instanceFactory<ThresholdKernel>(() => buildModule([threshold()]));
