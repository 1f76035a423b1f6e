import type { DetectedBox } from '@iev/frame-protocol';
import type { InferenceBackend, TensorData } from '@iev/inference-backends';
import { DbPostprocessor, Preprocessor, type DetectionPreset, type ImageView } from '@iev/text-detection';

export interface DetectionResult {
  /** In the input image's own pixels. */
  boxes: DetectedBox[];
  width: number;
  height: number;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

/** A frame that has been through the model, waiting to be postprocessed. */
export interface InferredImage {
  finish(): DetectionResult;
}

/**
 * PaddleOCR DB text detection on one BGR image: preprocess, run the model, postprocess. Up to the backend's
 * `concurrency` images may be in the model at once (whenReady() tells when another may go in).
 */
export class TextDetector {
  private preprocessor: Preprocessor;
  private readonly postprocessor = new DbPostprocessor();
  private inFlight = 0;
  private readonly readyWaiters: Array<() => void> = [];
  /** Runs in flight per backend, so a backend swapped out is released once its last run is done. */
  private readonly runsOn = new Map<InferenceBackend, number>();

  constructor(
    private currentBackend: InferenceBackend,
    private currentPreset: DetectionPreset,
    /** Where the backend's model was read from, to tell whether new settings need another model. */
    private currentModelPath?: string,
  ) {
    this.preprocessor = new Preprocessor(currentPreset);
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

  /** Switches settings live (a module twin patch): frames already in the model finish with the old ones. */
  configure(preset: DetectionPreset): void {
    this.currentPreset = preset;
    this.preprocessor = new Preprocessor(preset);
  }

  /**
   * Runs the next frames on another (loaded) model with new settings; frames already in the old model finish
   * there, and the old model is disposed when the last of them is done.
   */
  async switchModel(backend: InferenceBackend, preset: DetectionPreset, modelPath?: string): Promise<void> {
    const retired = this.currentBackend;
    this.currentBackend = backend;
    this.currentModelPath = modelPath;
    this.configure(preset);
    if (!this.runsOn.get(retired)) await retired.dispose();
  }

  /** How many images may be in the model at once. */
  get concurrency(): number {
    return this.backend.concurrency ?? 1;
  }

  /** Resolves once infer() may be called: fewer than `concurrency` images are in the model. */
  async whenReady(): Promise<void> {
    while (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  async detect(image: ImageView): Promise<DetectionResult> {
    return (await this.infer(image)).finish();
  }

  /**
   * Preprocesses and runs the model; the result's finish() postprocesses. Split so a caller can postprocess
   * one frame while the next is in the model (the backend runs off the main thread). finish() may run after
   * the next infer() has started.
   */
  async infer(image: ImageView): Promise<InferredImage> {
    const started = performance.now();
    const preset = this.currentPreset;
    const backend = this.currentBackend;
    let preprocessed = started;
    let output: TensorData;
    this.inFlight++;
    this.runsOn.set(backend, (this.runsOn.get(backend) ?? 0) + 1);
    try {
      if (backend.runImage) {
        // The backend preprocesses on its own device (TensorRT: on the GPU), within its inference time.
        output = await backend.runImage(image, preset);
      } else {
        const input = this.preprocessor.run(image);
        preprocessed = performance.now();
        output = await backend.run({ data: input.tensor, dims: [1, 3, input.height, input.width] });
      }
    } finally {
      this.inFlight--;
      this.readyWaiters.shift()?.();
      this.releaseIfRetired(backend);
    }
    const inferred = performance.now();
    const [mapHeight, mapWidth] = output.dims.slice(-2);
    const { width, height } = image;
    return {
      finish: () => {
        const postprocessStarted = performance.now();
        const boxes = this.boxesInImagePixels(preset, output.data, mapWidth, mapHeight, width, height);
        backend.recycle?.(output);
        return {
          boxes,
          width,
          height,
          timings: {
            preprocessMs: preprocessed - started,
            inferenceMs: inferred - preprocessed,
            postprocessMs: performance.now() - postprocessStarted,
          },
        };
      },
    };
  }

  private releaseIfRetired(backend: InferenceBackend): void {
    const runs = (this.runsOn.get(backend) ?? 1) - 1;
    if (runs > 0) return void this.runsOn.set(backend, runs);
    this.runsOn.delete(backend);
    if (backend !== this.currentBackend) void backend.dispose();
  }

  /**
   * A preset that first squashes frames to a fixed size (the original sample's 960x960) reports boxes as the
   * sample did — integer points in that squashed image — and then maps them to the frame's own pixels, so
   * `seed` reproduces the sample box for box. Other presets postprocess straight into the frame's pixels.
   */
  private boxesInImagePixels(
    preset: DetectionPreset,
    probMap: Float32Array,
    mapWidth: number,
    mapHeight: number,
    width: number,
    height: number,
  ): DetectedBox[] {
    const squashed = preset.preResize;
    if (!squashed) return this.postprocessor.run(probMap, mapWidth, mapHeight, width, height, preset.postprocess);
    const boxes = this.postprocessor.run(probMap, mapWidth, mapHeight, squashed.width, squashed.height, preset.postprocess);
    const scaleX = width / squashed.width;
    const scaleY = height / squashed.height;
    for (const box of boxes) for (const point of box.points) {
      point[0] = Math.round(point[0] * scaleX);
      point[1] = Math.round(point[1] * scaleY);
    }
    return boxes;
  }
}
