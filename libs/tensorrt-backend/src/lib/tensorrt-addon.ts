import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** [width, height] of an image */
export type NativeSize = [number, number];

/** A model input's shape, NCHW: [batch, 3, height, width]. */
export type NativeShape = [number, number, number, number];

/** TensorRT's optimization profile: the input shapes an engine takes (min..max in every dimension) and is tuned for (opt). */
export interface NativeProfile {
  min: NativeShape;
  opt: NativeShape;
  max: NativeShape;
}

export interface NativePreprocessPlan {
  /** The 8-bit size a frame is squashed to first (the seed preset's 960x960). */
  intermediate?: NativeSize;
  input: NativeSize;
  scale: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * native/src/addon.cc's Engine. Promises resolve to the output dims; the output array is written in place. The input
 * (tensor or frame) is copied before the call returns: the caller may reuse it at once.
 */
export interface NativeEngine {
  profile(): NativeProfile;
  /** The output's dims for an input shape (the recognition model's time steps follow its width); throws while an inference runs. */
  outputDims(dims: NativeShape): number[];
  inferTensor(input: Float32Array, dims: NativeShape, output: Float32Array): Promise<number[]>;
  inferImage(frame: Uint8Array, geometry: { width: number; height: number; stride: number }, plan: NativePreprocessPlan, output: Float32Array): Promise<number[]>;
  dispose(): void;
}

export interface CudaDevice {
  name: string;
  /** "8.7" */
  computeCapability: string;
  /** Streaming multiprocessors: Orin modules all report "Orin" 8.7 and differ here and in memory. */
  multiprocessors: number;
  totalMemoryBytes: number;
}

/** One report of TensorRT's builder (10 and later): a phase, inside `parent` if any, at `step` of `steps`. */
export interface BuildProgress {
  phase: string;
  parent?: string;
  step: number;
  steps: number;
}

export interface NativeBuildOptions {
  /** The model's path: named in errors, and where TensorRT finds external weights (none in PaddleOCR's models). */
  modelPath: string;
  fp16: boolean;
  profile: NativeProfile;
  /** The builder's workspace limit; 0 or unset leaves TensorRT's default (all of the device's memory). */
  workspaceBytes?: number;
  onProgress?: (progress: BuildProgress) => void;
}

/** What native/src/addon.cc exports. */
export interface TensorRtAddon {
  /** The loaded libnvinfer's version and build, e.g. "10.3.0.30". */
  tensorRtVersion(): string;
  /** The loaded CUDA runtime's version, e.g. "12.6". */
  cudaRuntimeVersion(): string;
  /** Throws an Error whose `code` is the CUDA error name (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...). */
  cudaDevices(): CudaDevice[];
  /** Builds from these bytes (copied before it returns), not from the file at options.modelPath. */
  buildEngine(onnx: Uint8Array, options: NativeBuildOptions): Promise<Uint8Array>;
  Engine: new (plan: Uint8Array) => NativeEngine;
}

export const ADDON_FILE = 'tensorrt_addon.node';
/** The oldest TensorRT the binding builds against (native/src/tensorrt_minimum.h stops older ones): JetPack 5.1's. */
export const MINIMUM_TENSORRT_VERSION = '8.5';
/** Where `build-native` (node-gyp) leaves the binding, relative to the workspace root. */
export const ADDON_BUILD_PATH = 'libs/tensorrt-backend/native/build/Release/tensorrt_addon.node';
export const BUILD_COMMAND = 'npx nx run tensorrt-backend:build-native';

/** Which piece is missing when TensorRT cannot be used. */
export type TensorRtMissing = 'binding' | 'tensorrt-library' | 'cuda-runtime' | 'driver' | 'gpu';

export class TensorRtUnavailableError extends Error {
  override readonly name = 'TensorRtUnavailableError';
  constructor(
    readonly missing: TensorRtMissing,
    message: string,
  ) {
    super(message);
  }
}

/** The binding loaded, with the first CUDA device it sees (CUDA_VISIBLE_DEVICES picks another). */
export interface TensorRtRuntime {
  addon: TensorRtAddon;
  addonPath: string;
  tensorRtVersion: string;
  cudaRuntimeVersion: string;
  device: CudaDevice;
}

/**
 * Where the binding may be: TENSORRT_ADDON_PATH when set; else beside this code (an app bundle, where the CUDA
 * image puts it), then the workspace's node-gyp output in this folder or any above it (sources, dist/apps/*).
 */
export function addonCandidates(explicitPath?: string, from = __dirname): string[] {
  if (explicitPath) return [resolve(explicitPath)];
  const candidates = [join(from, ADDON_FILE)];
  for (let dir = from; ; dir = dirname(dir)) {
    candidates.push(join(dir, ADDON_BUILD_PATH));
    if (dir === dirname(dir)) return candidates;
  }
}

const SHARED_OBJECT_MISSING = /(lib[\w+-]+\.so[\w.]*): cannot open shared object file/;

/** Turns the loader's error for an existing binding file into which piece is missing and how to fix it. */
export function explainLoadError(path: string, error: Error): TensorRtUnavailableError {
  const library = SHARED_OBJECT_MISSING.exec(error.message)?.[1];
  if (library && /^lib(nvinfer|nvonnxparser)/.test(library)) {
    return new TensorRtUnavailableError(
      'tensorrt-library',
      `TensorRT's library ${library} is not installed or not on the loader path. Install TensorRT ${MINIMUM_TENSORRT_VERSION} or later ` +
        '(JetPack includes it; on x86 use NVIDIA\'s TensorRT container or its packages), or add the folder holding it to LD_LIBRARY_PATH.',
    );
  }
  if (library && /^libcudart/.test(library)) {
    return new TensorRtUnavailableError(
      'cuda-runtime',
      `the CUDA runtime ${library} is not installed or not on the loader path. Install the CUDA runtime the binding was ` +
        'built with, or add its folder (e.g. /usr/local/cuda/lib64) to LD_LIBRARY_PATH.',
    );
  }
  if (library && /^libcuda\.so/.test(library)) {
    return new TensorRtUnavailableError(
      'driver',
      `the NVIDIA driver's ${library} is missing: install the NVIDIA driver (in a container, run it with --gpus all or the nvidia runtime).`,
    );
  }
  return new TensorRtUnavailableError(
    'binding',
    `the TensorRT binding ${path} cannot be loaded (${error.message.split('\n')[0]}). Rebuild it on this machine: ${BUILD_COMMAND}.`,
  );
}

/** Turns the binding's CUDA device error into which piece is missing and how to fix it. */
export function explainDeviceError(error: Error & { code?: string }): TensorRtUnavailableError {
  const code = error.code ?? /cudaError\w+/.exec(error.message)?.[0] ?? '';
  if (code === 'cudaErrorInsufficientDriver' || code === 'cudaErrorNoKernelImageForDevice' || code === 'cudaErrorCompatNotSupportedOnDevice') {
    return new TensorRtUnavailableError(
      'driver',
      `the NVIDIA driver cannot run the CUDA runtime the binding was built with (${code}): update the driver, or rebuild the binding against the CUDA version the driver supports.`,
    );
  }
  return new TensorRtUnavailableError(
    'gpu',
    `no CUDA GPU is usable (${code || error.message}): check that the NVIDIA driver sees one (nvidia-smi; on Jetson, tegrastats) and, ` +
      'in a container, that it runs with --gpus all or the nvidia runtime (and as a member of the video group on Jetson).',
  );
}

const opened = new Map<string, TensorRtRuntime>();

/**
 * Loads the binding and finds a GPU, or throws TensorRtUnavailableError naming what is missing and how to fix it.
 * Loaded with process.dlopen at run time, so bundlers leave the .node file alone.
 */
export function openTensorRt(explicitPath?: string): TensorRtRuntime {
  const candidates = addonCandidates(explicitPath);
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    throw new TensorRtUnavailableError(
      'binding',
      `the TensorRT binding is not built (no ${ADDON_FILE} at ${candidates[0]}${candidates.length > 1 ? ` nor at ${ADDON_BUILD_PATH} in a folder above it` : ''}). ` +
        'Build it where TensorRT and the CUDA toolkit ' +
        `are installed with ${BUILD_COMMAND} (see libs/tensorrt-backend/README.md), use the CUDA image, or set TENSORRT_ADDON_PATH.`,
    );
  }
  const known = opened.get(path);
  if (known) return known;

  const module = { exports: {} as TensorRtAddon };
  try {
    process.dlopen(module, path);
  } catch (error) {
    throw explainLoadError(path, error as Error);
  }
  const addon = module.exports;
  let devices: CudaDevice[];
  try {
    devices = addon.cudaDevices();
  } catch (error) {
    throw explainDeviceError(error as Error & { code?: string });
  }
  if (devices.length === 0) throw explainDeviceError(Object.assign(new Error('no CUDA devices'), { code: 'cudaErrorNoDevice' }));
  const runtime = { addon, addonPath: path, tensorRtVersion: addon.tensorRtVersion(), cudaRuntimeVersion: addon.cudaRuntimeVersion(), device: devices[0] };
  opened.set(path, runtime);
  return runtime;
}

export type TensorRtProbe = { available: true; runtime: TensorRtRuntime } | { available: false; error: TensorRtUnavailableError };

/** openTensorRt without throwing: for `auto` selection, the bench, and tests that need TensorRT. */
export function probeTensorRt(explicitPath?: string): TensorRtProbe {
  try {
    return { available: true, runtime: openTensorRt(explicitPath) };
  } catch (error) {
    if (error instanceof TensorRtUnavailableError) return { available: false, error };
    throw error;
  }
}
