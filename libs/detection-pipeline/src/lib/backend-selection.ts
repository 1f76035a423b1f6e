import { availableParallelism } from 'node:os';
import { BackendPool, OnnxRuntimeBackend, type BackendLog, type InferenceBackend } from '@iev/inference-backends';
import { probeTensorRt, profileForPreset, readTensorRtSettings, TensorRtBackend, type TensorRtSettings } from '@iev/tensorrt-backend';
import { env, optional } from '@iev/service-runtime';
import type { DetectionPreset } from '@iev/text-detection';

export const BACKEND_CHOICES = ['onnxruntime', 'tensorrt', 'auto'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The variables that choose the backend, read alike by the inference module and the CLI's detect and eval. */
export const backendChoiceSpec = {
  /** Unset: the original sample's USE_TENSOR_RT decides. */
  backend: optional(env.oneOf('INFERENCE_BACKEND', BACKEND_CHOICES)),
  useTensorRt: env.boolean('USE_TENSOR_RT', false),
};

export interface BackendSelection extends Partial<TensorRtSettings> {
  /** INFERENCE_BACKEND; when unset, the original sample's USE_TENSOR_RT decides. */
  backend?: BackendChoice;
  useTensorRt: boolean;
  modelPath: string;
  /** INFERENCE_THREADS: ONNX Runtime threads per stream; 0 = the cores shared out among the streams. */
  threads: number;
  /**
   * INFERENCE_STREAMS: copies of the model running frames side by side (see BackendPool); 0 or unset = auto:
   * 2 on a CPU with 2 or more cores, 1 on TensorRT (one GPU).
   */
  streams?: number;
  /** Where `auto` says why it fell back, and TensorRT reports engine builds and cache problems. */
  log?: BackendLog;
  /** Picks TensorRT's optimization profile when TENSORRT_PROFILE is unset. */
  preset?: DetectionPreset;
  /** What a slow load is busy with (TensorRT: 'building engine'), for the module's health; undefined once done. */
  onActivity?: (activity: string | undefined) => void;
}

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/** Node's own warning channel, for callers that pass no logger. */
const processWarnings: BackendLog = {
  info: () => undefined,
  warn: (message) => process.emitWarning(message, 'InferenceBackend'),
};

/**
 * Picks the inference backend the way the original sample did (USE_TENSOR_RT=True → TensorRT), with an
 * explicit INFERENCE_BACKEND taking precedence. TensorRT needs the built binding, its libraries and a CUDA GPU;
 * when one is missing, `tensorrt` fails with which one and how to fix it, and only `auto` falls back to the CPU.
 */
export function selectBackend(selection: BackendSelection): InferenceBackend {
  const choice: BackendChoice = selection.backend ?? (selection.useTensorRt ? 'tensorrt' : 'onnxruntime');
  const log = selection.log ?? processWarnings;
  const cpu = () => {
    const { streams, threads } = cpuParallelism(selection.streams ?? 0, selection.threads);
    log.info(`ONNX Runtime on the CPU: ${streams} stream(s) of ${threads || 'one per core'} thread(s)`);
    return pooled(streams, () => new OnnxRuntimeBackend({ modelPath: selection.modelPath, intraOpThreads: threads }));
  };
  if (choice === 'onnxruntime') return cpu();

  const settings = { ...readTensorRtSettings({}), ...definedFields(selection) };
  const probe = probeTensorRt(settings.tensorRtAddonPath);
  if (probe.available) {
    const tensorRtProfile = settings.tensorRtProfile ?? profileForPreset(selection.preset);
    return pooled(selection.streams || 1, () => new TensorRtBackend({ ...settings, tensorRtProfile, modelPath: selection.modelPath, log, runtime: probe.runtime, onActivity: selection.onActivity }));
  }
  if (choice === 'auto') {
    log.warn(`INFERENCE_BACKEND=auto: running ONNX Runtime on the CPU because TensorRT is not usable here: ${probe.error.message}`);
    return cpu();
  }
  const asked = selection.backend === 'tensorrt' ? 'INFERENCE_BACKEND=tensorrt' : 'USE_TENSOR_RT=True';
  throw new BackendUnavailableError(
    `TensorRT was requested (${asked}) but ${probe.error.message} ` +
      'To run on the CPU instead set USE_TENSOR_RT=False (or INFERENCE_BACKEND=onnxruntime); INFERENCE_BACKEND=auto falls back by itself.',
  );
}

/**
 * Streams and threads per stream for ONNX Runtime on the CPU; 0 means auto. One stream keeps ONNX Runtime's own
 * thread default (one per physical core); several share out the cores, since more threads than cores in all
 * only makes them wait for each other (measured: 3 or 4 threads on 2 cores ran 7-10 % slower than 2).
 */
export function cpuParallelism(streams: number, threads: number, cores = availableParallelism()): { streams: number; threads: number } {
  const streamCount = streams || (cores >= 2 ? 2 : 1);
  return { streams: streamCount, threads: threads || (streamCount === 1 ? 0 : Math.max(1, Math.floor(cores / streamCount))) };
}

function pooled(streams: number, create: () => InferenceBackend): InferenceBackend {
  return streams === 1 ? create() : new BackendPool(Array.from({ length: streams }, create));
}

/** The TensorRT settings the caller gave, so that unset ones keep their defaults. */
function definedFields(selection: BackendSelection): Partial<TensorRtSettings> {
  const { tensorRtCacheDir, tensorRtPrecision, tensorRtProfile, tensorRtWorkspace, tensorRtAddonPath } = selection;
  return Object.fromEntries(
    Object.entries({ tensorRtCacheDir, tensorRtPrecision, tensorRtProfile, tensorRtWorkspace, tensorRtAddonPath }).filter(([, value]) => value !== undefined),
  );
}
