/** A dense float32 tensor in row-major (NCHW) order. */
export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * One way of running the text-detection model: input [1,3,H,W] float32, output [1,1,H,W] probability map.
 * Implementations load once and may be run many times; run() must not be called concurrently.
 */
export interface InferenceBackend {
  /** "onnxruntime-cpu", "tensorrt", ... */
  readonly name: string;
  /** Short model identity: file stem and the first 8 hex digits of its sha256. */
  readonly modelId: string;
  readonly modelSha256: string;
  load(): Promise<void>;
  run(input: TensorData): Promise<TensorData>;
  /** Hands back an output that is no longer read, so a later run() can reuse its memory. Optional. */
  recycle?(output: TensorData): void;
  dispose(): Promise<void>;
}
