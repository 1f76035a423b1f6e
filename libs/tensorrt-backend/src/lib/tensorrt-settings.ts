import { env, optional, readConfig, type ConfigOf, type EnvSource, type EnvVar } from '@iev/service-runtime';
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

/**
 * The TensorRT backend's environment variables, shared by the inference module and the CLI. The cache folder
 * defaults to one under the working directory for local runs; the CUDA image sets /var/cache/iev/tensorrt, where
 * the deployment mounts a volume so an engine is built once per device.
 */
export const tensorRtConfigSpec = {
  tensorRtCacheDir: env.string('TENSORRT_CACHE_DIR', 'tmp/tensorrt-engines'),
  /** auto: FP16 where the GPU computes it at full speed, else FP32. */
  tensorRtPrecision: env.oneOf('TENSORRT_PRECISION', TENSORRT_PRECISIONS, 'auto'),
  tensorRtProfile: profileVariable,
  /** The built binding (tensorrt_addon.node); unset: beside the app bundle, then the workspace's native build. */
  tensorRtAddonPath: optional(env.string('TENSORRT_ADDON_PATH')),
};

export type TensorRtSettings = ConfigOf<typeof tensorRtConfigSpec>;

export const readTensorRtSettings = (source: EnvSource = process.env): TensorRtSettings => readConfig(tensorRtConfigSpec, source);

/**
 * The precision `auto` builds with on a GPU of this compute capability: FP16 where it runs at full rate (Jetson
 * TX1 5.3, Pascal P100 6.0 and Jetson TX2 6.2, Volta and every later GPU), FP32 where FP16 is slow (other Maxwell
 * and Pascal GPUs, e.g. 6.1).
 */
export function resolvePrecision(requested: TensorRtPrecision, computeCapability: string): 'fp16' | 'fp32' {
  if (requested !== 'auto') return requested;
  const [major, minor] = computeCapability.split('.').map(Number);
  const fastFp16 = major >= 7 || (major === 6 && minor !== 1) || (major === 5 && minor === 3);
  return fastFp16 ? 'fp16' : 'fp32';
}
