import type { Size } from '@iev/text-detection';
import type { ModelFile } from './model-file';
import { readGraphInputs } from './onnx-graph/onnx-model';

/**
 * A model's first input as ONNX Runtime's session or the model file declares it: its element type by ONNX Runtime's
 * name ('float32'; absent for an input that is no tensor) and its dims, undefined where one is left open (dynamic).
 */
export interface ModelInput {
  name: string;
  type?: string;
  dims: ReadonlyArray<number | undefined>;
}

/**
 * What a model's input must take: batches of 1 to `batch`, or with `fitsFixedBatch` (the recognizer, which cuts its
 * lines into runs of the batch a model fixes and pads a short run up to it) any batch the model fixes; and with
 * `frames` (a detection model) frames of any size (H and W both dynamic) or of the one size it fixes (both fixed),
 * which every frame is then resized to.
 */
export interface InputDemand {
  batch: number;
  fitsFixedBatch?: boolean;
  frames?: boolean;
}

/** onnx.proto's TensorProto.DataType values as ONNX Runtime names them, from 1 (FLOAT) on. */
const ONNX_ELEMENT_TYPES = ['float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64', 'uint32', 'uint64'];

/** The first input of an ONNX model, read from its protobuf: what any backend will be given, before one is chosen. */
export function readModelInput(model: Uint8Array): ModelInput | undefined {
  const input = readGraphInputs(model)[0];
  if (!input) return undefined;
  const { name, elementType, dims = [] } = input;
  if (elementType === undefined) return { name, dims };
  return { name, type: ONNX_ELEMENT_TYPES[elementType - 1] ?? `ONNX type ${elementType}`, dims };
}

/** Dims as the messages write them, an open one as "?": "[?, 3, 640, 640]". */
export const formatDims = (dims: ModelInput['dims']): string => `[${dims.map((size) => size ?? '?').join(', ')}]`;

/**
 * Why the model's input cannot take what is sent it, if it cannot: float32 [N, 3, H, W] for N of 1 to `batch` frames
 * (any N with fitsFixedBatch), H and W both dynamic or both fixed for frames. Checked at load, since every run would
 * fail otherwise.
 */
export function inputRefusal(input: ModelInput | undefined, { batch, fitsFixedBatch, frames }: InputDemand): string | undefined {
  const batches = fitsFixedBatch ? '' : ` with N dynamic${batch === 1 ? ' or 1' : ''}, for batches of up to ${batch}`;
  const sides = frames ? ', and H and W both dynamic or both fixed' : '';
  const expected = `expected float32 [N, 3, H, W]${batches}${sides}`;
  if (!input?.type) return `its first input is no tensor; ${expected}`;
  const [count, channels, height, width] = input.dims;
  const batchFits = count === undefined || fitsFixedBatch || (count === 1 && batch === 1);
  const sidesFit = !frames || (height === undefined) === (width === undefined);
  if (input.type === 'float32' && input.dims.length === 4 && channels === 3 && batchFits && sidesFit) return undefined;
  return `its input ${input.name} is ${input.type} ${formatDims(input.dims)}; ${expected}`;
}

/**
 * A model's first input as its file declares it, read before any backend is chosen (which is then given the same
 * file): refused, naming the file and its setting, where it is no ONNX model or `demand` cannot be fed to it.
 */
export function checkedModelInput({ path, bytes, origin }: ModelFile, demand: InputDemand): ModelInput {
  let input: ModelInput | undefined;
  try {
    input = readModelInput(bytes);
  } catch (error) {
    throw new Error(`cannot load ${path} (${origin}): it is no ONNX model (${(error as Error).message})`);
  }
  const refusal = inputRefusal(input, demand);
  if (!input || refusal !== undefined) throw new Error(`cannot load ${path} (${origin}): ${refusal}`);
  return input;
}

/** The image size an [N, 3, H, W] input fixes, where it fixes both sides; undefined where it takes any. */
export function fixedImageSize({ dims: [, , height, width] }: ModelInput): Size | undefined {
  return height !== undefined && width !== undefined ? { height, width } : undefined;
}
