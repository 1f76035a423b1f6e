import { cpus } from 'node:os';
import { BackendPool, OnnxRuntimeBackend, processWarnings, type BackendLog, type InferenceBackend, type ModelFile } from '@iev/inference-backends';
import { detectionInput, engineProfile, probeTensorRt, readTensorRtSettings, recognitionInput, TensorRtBackend, type TensorRtRuntime, type TensorRtSettings } from '@iev/tensorrt-backend';
import { cpuBudget, env, optional } from '@iev/service-runtime';
import type { DetectionPreset } from '@iev/text-detection';
import { REC_BATCH_SIZE, RECOGNITION_FILE_VARIABLES, type LineInput } from '@iev/text-recognition';

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
  /** modelPath's file where it was read already (its input checked first): every stream loads it, none reads it again. */
  modelFile?: ModelFile;
  /** INFERENCE_THREADS: ONNX Runtime threads per stream; 0 = the cores shared out among the streams. */
  threads: number;
  /**
   * INFERENCE_STREAMS: copies of the model running frames side by side (see BackendPool); 0 or unset = auto:
   * 2 on a CPU with 2 or more cores, 1 on TensorRT (one GPU).
   */
  streams?: number;
  /** INFERENCE_BATCH: the most frames one run takes; a TensorRT engine's profile covers batches of 1 to it (default 1). */
  batch?: number;
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

/** How a backend is made once the rules have chosen: on the CPU, or with TensorRT's opened runtime and settings. */
interface BackendMakers<Backend> {
  cpu(): Backend;
  tensorRt(settings: TensorRtSettings, runtime: TensorRtRuntime): Backend;
}

/**
 * The rules every model follows, the way the original sample chose (USE_TENSOR_RT=True → TensorRT), with an
 * explicit INFERENCE_BACKEND taking precedence. TensorRT needs the built binding, its libraries and a CUDA GPU;
 * when one is missing, `tensorrt` fails with which one and how to fix it, and only `auto` falls back to the CPU.
 */
function chooseBackend<Backend>(selection: Omit<BackendSelection, 'preset'>, model: string, make: BackendMakers<Backend>): Backend {
  const choice: BackendChoice = selection.backend ?? (selection.useTensorRt ? 'tensorrt' : 'onnxruntime');
  if (choice === 'onnxruntime') return make.cpu();
  const settings = { ...readTensorRtSettings({}), ...definedFields(selection) };
  const probe = probeTensorRt(settings.tensorRtAddonPath);
  if (probe.available) return make.tensorRt(settings, probe.runtime);
  if (choice === 'auto') {
    (selection.log ?? processWarnings).warn(`INFERENCE_BACKEND=auto: running the ${model} model with ONNX Runtime on the CPU because TensorRT is not usable here: ${probe.error.message}`);
    return make.cpu();
  }
  const asked = selection.backend === 'tensorrt' ? 'INFERENCE_BACKEND=tensorrt' : 'USE_TENSOR_RT=True';
  throw new BackendUnavailableError(
    `TensorRT was requested (${asked}) but ${probe.error.message} ` +
      'To run on the CPU instead set USE_TENSOR_RT=False (or INFERENCE_BACKEND=onnxruntime); INFERENCE_BACKEND=auto falls back by itself.',
  );
}

/**
 * The detection model's backend, by chooseBackend's rules: on the CPU, INFERENCE_STREAMS copies side by side (ONNX
 * Runtime takes any batch); on TensorRT, an engine whose profile is TENSORRT_PROFILE or, unset, the preset's, for
 * batches of 1 to INFERENCE_BATCH.
 */
export function selectBackend(selection: BackendSelection): InferenceBackend {
  const log = selection.log ?? processWarnings;
  return chooseBackend<InferenceBackend>(selection, 'detection', {
    cpu: () => {
      const { streams, threads } = cpuParallelism(selection.streams ?? 0, selection.threads);
      log.info(`ONNX Runtime on the CPU: ${describeCpuParallelism(streams, threads)}`);
      const { modelPath, modelFile, batch } = selection;
      return pooled(streams, () => new OnnxRuntimeBackend({ modelPath, modelFile, intraOpThreads: threads, batch, log }));
    },
    tensorRt: (settings, runtime) => {
      const modelInput = detectionInput(engineProfile(selection.preset, settings.tensorRtProfile), selection.batch);
      const { modelPath, modelFile, onActivity } = selection;
      return pooled(selection.streams || 1, () => new TensorRtBackend({ ...settings, modelInput, modelPath, modelFile, log, runtime, onActivity }));
    },
  });
}

/** REC_MODEL_PATH's model and what its batches must keep to. */
export interface RecognitionBackend {
  backend: InferenceBackend;
  /** The widest batch input the backend takes (TensorRT's profile); undefined: any. */
  maxWidth?: number;
  /** What a run costs beyond its lines (BatchPlanning.runCostColumns); undefined: runs cost alike (a GPU). */
  runCostColumns?: number;
}

/**
 * A run of the recognizer on ONNX Runtime's CPU costs about 3 ms beyond its lines, as much as one line 48 columns
 * wide (~0.064 ms a column, one thread; 1x160 13.5 ms, 6x160 64.9 ms).
 */
const CPU_RUN_COST_COLUMNS = 48;

/**
 * Recognition runs one batch at a time (TextRecognizer queues them), so one stream; `threads` as INFERENCE_THREADS;
 * `lineInput`: the height, and any width or batch, the model's file fixes (a TensorRT engine is built for them).
 */
export type RecognitionBackendSelection = Omit<BackendSelection, 'preset' | 'streams' | 'batch'> & {
  lineInput?: LineInput;
  /** The setting that set modelPath, named when its file cannot be read (default REC_MODEL_PATH). */
  modelVariable?: string;
};

/**
 * The recognition model's backend, by the same rules as detection's: ONNX Runtime on the CPU (any batch the model
 * fixes, since TextRecognizer cuts and pads its runs to it), or a TensorRT engine
 * for TextRecognizer's batches (recognitionInput: 1 to 6 lines at the model's height, from square to REC_MAX_WIDTH
 * wide, or the width and batch the model fixes), cached beside the detector's in TENSORRT_CACHE_DIR.
 */
export function selectRecognitionBackend(selection: RecognitionBackendSelection): RecognitionBackend {
  const { modelPath, modelFile, threads, log, onActivity, lineInput, modelVariable = RECOGNITION_FILE_VARIABLES.model } = selection;
  return chooseBackend<RecognitionBackend>(selection, 'recognition', {
    cpu: () => ({ backend: new OnnxRuntimeBackend({ modelPath, modelFile, modelVariable, intraOpThreads: threads, variableInputShape: true, batch: REC_BATCH_SIZE, fitsFixedBatch: true, log }), runCostColumns: CPU_RUN_COST_COLUMNS }),
    tensorRt: (settings, runtime) => {
      const modelInput = recognitionInput(lineInput);
      const backend = new TensorRtBackend({ ...settings, modelInput, modelPath, modelFile, modelVariable, log: log ?? processWarnings, runtime, onActivity });
      return { backend, maxWidth: modelInput.maxWidth };
    },
  });
}

/**
 * Streams and threads per stream for ONNX Runtime on the CPU; 0 means auto. Several streams share out the cores,
 * since more threads than cores in all only makes them wait for each other (measured: 3 or 4 threads on 2 cores ran
 * 7-10 % slower than 2). One stream keeps ONNX Runtime's own thread default (one per physical core) only where the
 * process has every core of the machine: that default counts them all and pins a thread to each, so under
 * `taskset -c 0` on 2 cores its second thread ran on core 1; confined to fewer, one stream gets those cores' threads.
 */
export function cpuParallelism(streams: number, threads: number, cores = cpuBudget(), machineCores = cpus().length): { streams: number; threads: number } {
  const streamCount = streams || (cores >= 2 ? 2 : 1);
  const ownDefault = streamCount === 1 && cores >= machineCores;
  return { streams: streamCount, threads: threads || (ownDefault ? 0 : Math.max(1, Math.floor(cores / streamCount))) };
}

const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** cpuParallelism's answer in words: "1 stream, one thread per core" (threads 0: ONNX Runtime's default), "2 streams of 1 thread each". */
export function describeCpuParallelism(streams: number, threads: number): string {
  if (!threads) return `${counted(streams, 'stream')}, one thread per core`;
  return `${counted(streams, 'stream')} of ${counted(threads, 'thread')}${streams === 1 ? '' : ' each'}`;
}

function pooled(streams: number, create: () => InferenceBackend): InferenceBackend {
  return streams === 1 ? create() : new BackendPool(Array.from({ length: streams }, create));
}

/** The TensorRT settings the caller gave, so that unset ones keep their defaults. */
function definedFields(selection: Omit<BackendSelection, 'preset'>): Partial<TensorRtSettings> {
  const { tensorRtCacheDir, tensorRtPrecision, tensorRtProfile, tensorRtWorkspace, tensorRtAddonPath } = selection;
  return Object.fromEntries(
    Object.entries({ tensorRtCacheDir, tensorRtPrecision, tensorRtProfile, tensorRtWorkspace, tensorRtAddonPath }).filter(([, value]) => value !== undefined),
  );
}
