import type { DetectedBox } from '@iev/frame-protocol';
import type { InferenceBackend, ModelInput, TensorData } from '@iev/inference-backends';
import { callOnce } from '@iev/service-runtime';
import { FramePostprocessor, Preprocessor, type DetectionPreset, type ImageView } from '@iev/text-detection';

export interface DetectionResult {
  /** The model that ran the frame (another may have taken over by the time its boxes are out: switchModel). */
  modelId: string;
  /** In the input image's own pixels. */
  boxes: DetectedBox[];
  width: number;
  height: number;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

/** A backend that detects whole where its model runs (detectImages). */
type DetectingBackend = InferenceBackend & Required<Pick<InferenceBackend, 'detectImages'>>;

function detectsWhereModelRuns(backend: InferenceBackend): backend is DetectingBackend {
  return backend.detectImages !== undefined;
}

/** A frame that has been through the model, its boxes to come (postprocessed here, or where the model ran). */
export interface InferredImage {
  finish(): Promise<DetectionResult>;
}

/**
 * PaddleOCR DB text detection on BGR images: preprocess, run the model, postprocess, one image or a batch of
 * them at a time. Up to the backend's `concurrency` images or batches may be in the model at once (whenReady()
 * tells when another may go in).
 */
export class TextDetector {
  /** Made when first needed: a backend that preprocesses where its model runs never needs it. */
  private preprocessor?: Preprocessor;
  private readonly postprocessor = new FramePostprocessor();
  private inFlight = 0;
  private readonly readyWaiters: Array<() => void> = [];
  /** Streams lent to another model on the same cores (see lendStream), and loans waiting for a stream. */
  private lent = 0;
  private readonly loanWaiters: Array<() => void> = [];
  /** Runs in flight per backend, so a backend swapped out is released once its last run is done. */
  private readonly runsOn = new Map<InferenceBackend, number>();
  /** Batch tensors a finished run gave back, for the next batch of that size (a run may read its input until it is done). */
  private readonly spareBatches: Float32Array[] = [];

  constructor(
    private currentBackend: InferenceBackend,
    private currentPreset: DetectionPreset,
    /** Where the backend's model was read from, to tell whether new settings need another model. */
    private currentModelPath?: string,
    /** The most frames inferBatch() takes at once (INFERENCE_BATCH; a TensorRT engine's profile is built for it). */
    readonly maxBatch = 1,
    /** The model's input as its file declares it (loadTextDetector reads it), so new settings are fitted to it. */
    private currentModelInput?: ModelInput,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`the detector's batch must be a whole number >= 1 (got ${maxBatch})`);
  }

  get backend(): InferenceBackend {
    return this.currentBackend;
  }

  get modelPath(): string | undefined {
    return this.currentModelPath;
  }

  get preset(): DetectionPreset {
    return this.currentPreset;
  }

  get modelInput(): ModelInput | undefined {
    return this.currentModelInput;
  }

  /** Switches settings live (a module twin patch): frames already in the model finish with the old ones. */
  configure(preset: DetectionPreset): void {
    this.currentPreset = preset;
    this.preprocessor = undefined;
  }

  /**
   * Runs the next frames on another (loaded) model with new settings; frames already in the old model finish
   * there, and the old model is disposed when the last of them is done.
   */
  async switchModel(backend: InferenceBackend, preset: DetectionPreset, modelPath?: string, modelInput?: ModelInput): Promise<void> {
    const retired = this.currentBackend;
    this.currentBackend = backend;
    this.currentModelPath = modelPath;
    this.currentModelInput = modelInput;
    this.configure(preset);
    if (!this.runsOn.get(retired)) await retired.dispose();
  }

  /** How many images may be in the model at once. */
  get concurrency(): number {
    return this.backend.concurrency ?? 1;
  }

  /** Resolves once infer() may be called: fewer than `concurrency` images are in the model, streams lent included. */
  async whenReady(): Promise<void> {
    while (this.inFlight + this.lent >= this.concurrency) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Lends one stream's turn to another model that runs on the same cores (the text reader's, both on the CPU), so
   * the two take turns rather than one more thread than there are cores slowing every frame in the model. The loan
   * starts when the next run ends, ahead of frames waiting for a stream (which is then asked for no frame until it
   * is given back), or at once when no frame is in the model. Resolves with the function that gives it back.
   */
  async lendStream(): Promise<() => void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.loanWaiters.push(resolve));
    else this.lent++;
    return callOnce(() => {
      this.lent--;
      this.streamFreed();
    });
  }

  async detect(image: ImageView): Promise<DetectionResult> {
    return (await this.infer(image)).finish();
  }

  /** Several frames as one batch (see inferBatch); each result is what detect() gives for that frame alone. */
  async detectBatch(images: readonly ImageView[]): Promise<DetectionResult[]> {
    return Promise.all((await this.inferBatch(images)).map((inferred) => inferred.finish()));
  }

  /**
   * Preprocesses and runs the model; resolves once the model is done with the frame, and the result's finish() gives
   * its boxes. Split so the next frame goes into the model while this one is postprocessed (here, or where the model
   * runs). finish() may be called after the next infer() has started.
   */
  async infer(image: ImageView): Promise<InferredImage> {
    return (await this.inferBatch([image]))[0];
  }

  /**
   * infer() for up to `maxBatch` frames whose model inputs have the same size (frames of one size, or squashed
   * to one by the preset): preprocessed into one [N, 3, H, W] tensor (where the model runs, or here), the model runs
   * once, and each finish() gives the boxes of its own slice of the map (made where the model runs, or here). A batch
   * counts as one image against `concurrency`. Timings are per frame, except inferenceMs: the batch's whole run,
   * which each of its frames waited for.
   */
  async inferBatch(images: readonly ImageView[]): Promise<InferredImage[]> {
    if (images.length === 0) return [];
    if (images.length > this.maxBatch) throw new RangeError(`a batch of ${images.length} frames is more than the detector's ${this.maxBatch} (INFERENCE_BATCH)`);
    const preset = this.currentPreset;
    const backend = this.currentBackend;
    this.inFlight++;
    this.runsOn.set(backend, (this.runsOn.get(backend) ?? 0) + 1);
    try {
      return detectsWhereModelRuns(backend) ? await this.detectWhereModelRuns(backend, preset, images) : await this.inferHere(backend, preset, images);
    } finally {
      this.inFlight--;
      this.streamFreed();
      this.releaseIfRetired(backend);
    }
  }

  /** The backend detects (ONNX Runtime: on its worker); its preprocessing time is shared among the batch's frames. */
  private async detectWhereModelRuns(backend: DetectingBackend, preset: DetectionPreset, images: readonly ImageView[]): Promise<InferredImage[]> {
    const { modelId } = backend;
    const run = await backend.detectImages(images, preset);
    const preprocessMs = run.preprocessMs / images.length;
    return images.map(({ width, height }, i) => ({
      finish: async () => {
        const { boxes, postprocessMs } = (await run.frames)[i];
        return { modelId, boxes, width, height, timings: { preprocessMs, inferenceMs: run.inferenceMs, postprocessMs } };
      },
    }));
  }

  /**
   * The backend runs the model only, on pixels where it preprocesses them itself (TensorRT: on the GPU, one frame at
   * a time, which counts as inference) or else on floats preprocessed here; each frame's finish() postprocesses its
   * slice of the map here.
   */
  private async inferHere(backend: InferenceBackend, preset: DetectionPreset, images: readonly ImageView[]): Promise<InferredImage[]> {
    const { modelId } = backend;
    const preprocessMs: number[] = [];
    let inferenceStarted = performance.now();
    let output: TensorData;
    if (images.length === 1 && backend.runImage) {
      output = await backend.runImage(images[0], preset);
      preprocessMs.push(0);
    } else {
      const input = this.preprocessBatch(images, preprocessMs);
      inferenceStarted = performance.now();
      try {
        output = await backend.run(input);
      } finally {
        if (images.length > 1) this.keepSpareBatch(input.data);
      }
    }
    const inferenceMs = performance.now() - inferenceStarted;
    const [mapHeight, mapWidth] = output.dims.slice(-2);
    const mapLength = mapHeight * mapWidth;
    // The map goes back to the backend once every frame of the batch has read its slice.
    let unread = images.length;
    return images.map(({ width, height }, i) => ({
      finish: async () => {
        const postprocessStarted = performance.now();
        const map = output.data.subarray(i * mapLength, (i + 1) * mapLength);
        const boxes = this.postprocessor.run(map, mapWidth, mapHeight, width, height, preset);
        if (--unread === 0) backend.recycle?.(output);
        return { modelId, boxes, width, height, timings: { preprocessMs: preprocessMs[i], inferenceMs, postprocessMs: performance.now() - postprocessStarted } };
      },
    }));
  }

  /**
   * The model input for a batch. One frame's is the preprocessor's own tensor (the backend copies it before its
   * first await); a batch's is a tensor of its own, kept for the next batch once the run is done with it.
   */
  private preprocessBatch(images: readonly ImageView[], preprocessMs: number[]): TensorData {
    const preprocessor = (this.preprocessor ??= new Preprocessor(this.currentPreset));
    const preprocess = (image: ImageView) => {
      const started = performance.now();
      const input = preprocessor.run(image);
      preprocessMs.push(performance.now() - started);
      return input;
    };
    const first = preprocess(images[0]);
    const dims = [images.length, 3, first.height, first.width];
    if (images.length === 1) return { data: first.tensor, dims };
    const frameLength = first.tensor.length;
    const data = this.spareBatch(images.length * frameLength);
    data.set(first.tensor);
    for (let i = 1; i < images.length; i++) {
      const input = preprocess(images[i]);
      if (input.width !== first.width || input.height !== first.height) {
        throw new RangeError(`a batch needs frames with one model input size: frame 0's is ${first.width}x${first.height}, frame ${i}'s ${input.width}x${input.height}`);
      }
      data.set(input.tensor, i * frameLength);
    }
    return { data, dims };
  }

  private spareBatch(length: number): Float32Array {
    const index = this.spareBatches.findIndex((spare) => spare.length === length);
    return index >= 0 ? this.spareBatches.splice(index, 1)[0] : new Float32Array(length);
  }

  /** As many as may be in the model at once; batches of another size replace the oldest. */
  private keepSpareBatch(data: Float32Array): void {
    this.spareBatches.push(data);
    if (this.spareBatches.length > this.concurrency) this.spareBatches.shift();
  }

  /** A stream came free: a waiting loan takes it, or else a frame may go in. */
  private streamFreed(): void {
    const loan = this.loanWaiters.shift();
    if (!loan) return void this.readyWaiters.shift()?.();
    this.lent++;
    loan();
  }

  private releaseIfRetired(backend: InferenceBackend): void {
    const runs = (this.runsOn.get(backend) ?? 1) - 1;
    if (runs > 0) return void this.runsOn.set(backend, runs);
    this.runsOn.delete(backend);
    if (backend !== this.currentBackend) void backend.dispose();
  }
}
