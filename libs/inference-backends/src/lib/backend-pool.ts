import type { ImageView } from '@iev/text-detection';
import type { ImageDetectionRun, ImageDetectionSettings, ImagePreprocessing, InferenceBackend, TensorData } from './inference-backend';

/**
 * Several copies of one backend ("streams"), each with its own session and thread, running different frames
 * side by side. On a small CPU this beats one session spread over every core: a single-threaded session never
 * waits at an operator's barrier for a sibling thread that the decoder or the sockets preempted (measured on
 * 2 cores: two 1-thread sessions run 12.5 frames/s together, one 2-thread session 7.5). Each frame takes
 * longer, and each stream holds its own model and buffers (~300 MB at 960x960).
 */
export class BackendPool implements InferenceBackend {
  readonly concurrency: number;
  readonly runImage?: (image: ImageView, preprocessing: ImagePreprocessing) => Promise<TensorData>;
  readonly detectImages?: (images: readonly ImageView[], settings: ImageDetectionSettings) => Promise<ImageDetectionRun>;
  private readonly idle: InferenceBackend[];
  /** Which stream made an output, so recycle() lends its memory back to that stream's worker. */
  private readonly producers = new WeakMap<ArrayBufferLike, InferenceBackend>();

  constructor(private readonly streams: readonly InferenceBackend[]) {
    if (streams.length === 0) throw new RangeError('a backend pool needs at least one stream');
    this.concurrency = streams.length;
    this.idle = [...streams];
    if (streams.every((stream) => stream.runImage)) {
      this.runImage = (image, preprocessing) => this.onIdleStream((stream) => this.produced(stream, stream.runImage!(image, preprocessing)));
    }
    if (streams.every((stream) => stream.detectImages)) {
      this.detectImages = (images, settings) => this.onIdleStream((stream) => stream.detectImages!(images, settings));
    }
  }

  get name(): string {
    return this.streams[0].name;
  }

  get runsOnCpu(): boolean | undefined {
    return this.streams[0].runsOnCpu;
  }

  get modelId(): string {
    return this.streams[0].modelId;
  }

  get modelSha256(): string {
    return this.streams[0].modelSha256;
  }

  /** One after another, so a backend that builds a cached artefact on first load (a TensorRT engine) builds it once. */
  async load(): Promise<void> {
    try {
      for (const stream of this.streams) await stream.load();
    } catch (error) {
      await this.dispose();
      throw error;
    }
  }

  /** Runs on an idle stream; at most `concurrency` runs may be in flight. */
  run(input: TensorData): Promise<TensorData> {
    return this.onIdleStream((stream) => this.produced(stream, stream.run(input)));
  }

  recycle(output: TensorData): void {
    this.producers.get(output.data.buffer)?.recycle?.(output);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.streams.map((stream) => stream.dispose()));
  }

  /** Takes a stream synchronously (a stream copies its input before its first await), and frees it when done. */
  private async onIdleStream<Output>(work: (stream: InferenceBackend) => Promise<Output>): Promise<Output> {
    // The stream idle longest: one that just said its model is done may still be making that run's boxes.
    const stream = this.idle.shift();
    if (!stream) throw new Error(`${this.name}: all ${this.concurrency} streams are busy; await a free one before run()`);
    try {
      return await work(stream);
    } finally {
      this.idle.push(stream);
    }
  }

  /** Remembers which stream made an output, for recycle(). */
  private async produced<Output extends TensorData>(stream: InferenceBackend, running: Promise<Output>): Promise<Output> {
    const output = await running;
    this.producers.set(output.data.buffer, stream);
    return output;
  }
}
