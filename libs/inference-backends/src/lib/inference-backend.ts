import type { DetectedBox, ImageView, PostprocessSettings, PreprocessSettings } from '@iev/text-detection';

/** A dense float32 tensor in row-major (NCHW) order. */
export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * One way of running the text-detection model: input [N,3,H,W] float32, output [N,1,H,W] probability map.
 * Implementations load once and may be run many times; at most `concurrency` runs may be in flight at once.
 */
export interface InferenceBackend {
  /** "onnxruntime-cpu", "tensorrt", ... */
  readonly name: string;
  /** Short model identity: file stem and the first 8 hex digits of its sha256. */
  readonly modelId: string;
  readonly modelSha256: string;
  /** How many run()/runImage() calls may be in flight at once (default 1: not re-entrant). */
  readonly concurrency?: number;
  /** How many of its streams are down (a worker restarting after a crash) and take no work meanwhile; absent: never. */
  readonly streamsDown?: number;
  /** True where a run takes the CPU's own cores (ONNX Runtime): two models there share them, where a GPU's do not. */
  readonly runsOnCpu?: boolean;
  load(): Promise<void>;
  run(input: TensorData): Promise<TensorData>;
  /**
   * Optional: preprocesses an 8-bit BGR frame on the backend's own device, computing exactly what the CPU
   * Preprocessor computes for these settings, and runs the model on it, so a frame crosses to the device as bytes
   * rather than floats. Returns the probability map as run() does; same rules (concurrency, recycle()).
   */
  runImage?(image: ImageView, preprocessing: ImagePreprocessing): Promise<TensorData>;
  /**
   * Optional: text detection whole where the model runs (ONNX Runtime: on its worker thread) for a batch of frames
   * whose model inputs have one size: preprocessed into one [N, 3, H, W] input, run, and each frame's slice of the map
   * postprocessed into boxes in its own pixels. Resolves as soon as the model is done with the frames (another run
   * may start: the stream is free while the boxes are made); `frames` once they are postprocessed.
   */
  detectImages?(images: readonly ImageView[], settings: ImageDetectionSettings): Promise<ImageDetectionRun>;
  /** Hands back an output that is no longer read, so a later run() can reuse its memory. Optional. */
  recycle?(output: TensorData): void;
  dispose(): Promise<void>;
}

/** The parts of a detection preset that turn a frame into the model input. */
export type ImagePreprocessing = PreprocessSettings;

/** The parts of a detection preset that turn a frame into the model input and its map into boxes. */
export type ImageDetectionSettings = PreprocessSettings & PostprocessSettings;

/**
 * A detectImages() run whose model is done: how long preprocessing and the model took where they ran (a run may wait
 * there behind the previous one's postprocessing, which that one's frames count), and each frame's boxes to come.
 */
export interface ImageDetectionRun {
  preprocessMs: number;
  inferenceMs: number;
  frames: Promise<FrameBoxes[]>;
}

/** One frame's boxes, in its own pixels, and how long postprocessing took. */
export interface FrameBoxes {
  boxes: DetectedBox[];
  postprocessMs: number;
}

/** Where a backend reports what an operator should know (a fallback, an engine build, a cache it cannot write). */
export interface BackendLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Node's own warning channel, for callers that pass no logger. */
export const processWarnings: BackendLog = {
  info: () => undefined,
  warn: (message) => process.emitWarning(message, 'InferenceBackend'),
};
