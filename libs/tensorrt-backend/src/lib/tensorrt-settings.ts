import { env, optional, readConfig, type ConfigOf, type EnvSource, type EnvVar } from '@iev/service-runtime';
import { MINIMUM_TENSORRT_VERSION } from './tensorrt-addon';
import { SAMPLE_PROFILE, formatProfile, parseTensorRtProfile, type TensorRtProfile } from './tensorrt-profile';

export const TENSORRT_PRECISIONS = ['auto', 'fp16', 'fp32'] as const;
export type TensorRtPrecision = (typeof TENSORRT_PRECISIONS)[number];

/** Unset: profileForPreset picks one (the sample's for `seed`). */
const profileVariable: EnvVar<TensorRtProfile | undefined> = {
  names: ['TENSORRT_PROFILE'],
  parse: parseTensorRtProfile,
  fallback: undefined,
  required: false,
  description: `min,opt,max model input sizes WIDTHxHEIGHT (e.g. the sample's ${formatProfile(SAMPLE_PROFILE)})`,
};

export type WorkspaceSetting = number | 'auto';

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `auto`, or bytes with an optional K, M or G (powers of 1024), e.g. "512M", "2G". Throws saying what is expected. */
export function parseWorkspace(text: string): WorkspaceSetting {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'auto') return 'auto';
  const match = /^(\d+)\s*([KMG]?)i?B?$/i.exec(trimmed);
  const bytes = match ? Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < SIZE_UNITS['M']) throw new Error('must be auto or a size of at least 1M, in bytes or with K, M or G (e.g. 512M, 2G)');
  return bytes;
}

/** auto: a quarter of the GPU's memory, at most 2 GiB: ample for the DB model, and on a Jetson the rest stays the system's. */
const AUTO_WORKSPACE_CAP = 2 * 1024 ** 3;

/**
 * The builder's workspace limit in bytes for a GPU with this much memory (on a Jetson, the system's memory). A limit
 * above it is an error naming TENSORRT_WORKSPACE.
 */
export function resolveWorkspace(setting: WorkspaceSetting, totalMemoryBytes: number): number {
  if (setting === 'auto') return Math.min(AUTO_WORKSPACE_CAP, Math.floor(totalMemoryBytes / 4 / SIZE_UNITS['M']) * SIZE_UNITS['M']);
  if (setting >= totalMemoryBytes) {
    const mib = (bytes: number) => `${Math.round(bytes / SIZE_UNITS['M'])} MiB`;
    throw new Error(`TENSORRT_WORKSPACE=${mib(setting)} is not less than the GPU's memory (${mib(totalMemoryBytes)}): set a smaller size or auto`);
  }
  return setting;
}

const workspaceVariable: EnvVar<WorkspaceSetting> = {
  names: ['TENSORRT_WORKSPACE'],
  parse: parseWorkspace,
  fallback: 'auto',
  required: false,
  description: 'the engine builder\'s memory limit: auto or a size such as 512M',
};

/**
 * The TensorRT backend's environment variables, shared by the inference module and the CLI. The cache folder
 * defaults to one under the working directory for local runs; the CUDA image sets /var/cache/iev/tensorrt, where
 * the deployment mounts a volume so an engine is built once per device.
 */
export const tensorRtConfigSpec = {
  tensorRtCacheDir: env.string('TENSORRT_CACHE_DIR', 'tmp/tensorrt-engines'),
  /** auto: FP16 where the GPU computes it at full speed, else FP32; FP32 on TensorRT 11 (resolvePrecision). */
  tensorRtPrecision: env.oneOf('TENSORRT_PRECISION', TENSORRT_PRECISIONS, 'auto'),
  tensorRtProfile: profileVariable,
  /** The builder's workspace: unlimited, an engine build can take a Jetson's whole memory, which the system shares. */
  tensorRtWorkspace: workspaceVariable,
  /** The built binding (tensorrt_addon.node); unset: beside the app bundle, then the workspace's native build. */
  tensorRtAddonPath: optional(env.string('TENSORRT_ADDON_PATH')),
};

export type TensorRtSettings = ConfigOf<typeof tensorRtConfigSpec>;

export const readTensorRtSettings = (source: EnvSource = process.env): TensorRtSettings => readConfig(tensorRtConfigSpec, source);

/**
 * Whether this TensorRT builds every network strongly typed, in the model's own precision: TensorRT 11 removed
 * the FP16 builder flag. The model is FP32, so there it runs in FP32 (see the README).
 */
const precisionFollowsModel = (tensorRtVersion: string): boolean => Number(tensorRtVersion.split('.')[0]) >= 11;

/**
 * The precision an engine is built with. `auto`: FP16 where the GPU runs it at full rate (Jetson TX1 5.3, Pascal
 * P100 6.0 and Jetson TX2 6.2, Volta and every later GPU), FP32 where FP16 is slow (other Maxwell and Pascal GPUs,
 * e.g. 6.1), and FP32 on TensorRT 11, where precision follows the model; `fp16` there is an error.
 */
export function resolvePrecision(requested: TensorRtPrecision, computeCapability: string, tensorRtVersion: string): 'fp16' | 'fp32' {
  if (precisionFollowsModel(tensorRtVersion)) {
    if (requested === 'fp16') {
      throw new Error(
        `TENSORRT_PRECISION=fp16 needs TensorRT ${MINIMUM_TENSORRT_VERSION} to 10: TensorRT ${tensorRtVersion} builds networks in the model's own precision, ` +
          'FP32 for this model. Set TENSORRT_PRECISION=auto or fp32.',
      );
    }
    return 'fp32';
  }
  if (requested !== 'auto') return requested;
  const [major, minor] = computeCapability.split('.').map(Number);
  const fastFp16 = major >= 7 || (major === 6 && minor !== 1) || (major === 5 && minor === 3);
  return fastFp16 ? 'fp16' : 'fp32';
}
