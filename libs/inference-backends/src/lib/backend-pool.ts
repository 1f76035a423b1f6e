import type { ImageView } from '@iev/text-detection';
import type { ImageDetectionRun, ImageDetectionSettings, ImagePreprocessing, InferenceBackend, TensorData } from './inference-backend';

/** A run waiting for a stream: `start` begins it on the stream it is given, at once. */
interface WaitingRun {
  start(stream: number): void;
  reject(error: Error): void;
}

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
  /** The streams not running, by index, idle longest first. */
  private readonly idle: number[];
  /** Runs that came while every idle stream was down (restarting) and another was busy: each starts on the next stream idle and up. */
  private readonly waiting: WaitingRun[] = [];
  /** Which stream made an output, so recycle() lends its memory back to that stream's worker. */
  private readonly producers = new WeakMap<ArrayBufferLike, InferenceBackend>();

  constructor(private readonly streams: readonly InferenceBackend[]) {
    if (streams.length === 0) throw new RangeError('a backend pool needs at least one stream');
    this.concurrency = streams.length;
    this.idle = streams.map((_, index) => index);
    const imageRunners = streams.map((stream) => stream.runImage?.bind(stream));
    if (allDefined(imageRunners)) {
      this.runImage = (image, preprocessing) => this.onIdleStream((stream) => this.produced(stream, imageRunners[stream](image, preprocessing)));
    }
    const detectors = streams.map((stream) => stream.detectImages?.bind(stream));
    if (allDefined(detectors)) {
      this.detectImages = (images, settings) => this.onIdleStream((stream) => detectors[stream](images, settings));
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

  get streamsDown(): number {
    return this.streams.reduce((down, stream) => down + (stream.streamsDown ?? 0), 0);
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
    return this.onIdleStream((stream) => this.produced(stream, this.streams[stream].run(input)));
  }

  recycle(output: TensorData): void {
    this.producers.get(output.data.buffer)?.recycle?.(output);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.streams.map((stream) => stream.dispose()));
  }

  /**
   * Takes a stream synchronously (a stream copies its input before its first await), and frees it when done. While a
   * stream is down, a run within `concurrency` that finds no idle stream up waits for a busy one to come free, which
   * starts it at once, rather than fail.
   */
  private onIdleStream<Output>(work: (stream: number) => Promise<Output>): Promise<Output> {
    const stream = this.takeIdleStreamUp();
    return stream === undefined ? this.waitForStream(work) : this.runOn(stream, work);
  }

  /** No idle stream is up: each that is down may stand for one run waiting for a busy one, which then starts it. */
  private async waitForStream<Output>(work: (stream: number) => Promise<Output>): Promise<Output> {
    if (this.waiting.length >= this.idle.length) throw new Error(`${this.name}: all ${this.concurrency} streams are busy; await a free one before run()`);
    if (!this.busyStreamUp()) throw this.noStreamUpError();
    return new Promise<Output>((resolve, reject) => this.waiting.push({ start: (freed) => void this.runOn(freed, work).then(resolve, reject), reject }));
  }

  /** The stream idle longest that is up; one that is down (its worker restarting) goes to the back of the line. */
  private takeIdleStreamUp(): number | undefined {
    for (let left = this.idle.length; left > 0; left--) {
      const stream = this.idle.shift();
      if (stream === undefined || !this.streams[stream].streamsDown) return stream;
      this.idle.push(stream);
    }
    return undefined;
  }

  private async runOn<Output>(stream: number, work: (stream: number) => Promise<Output>): Promise<Output> {
    try {
      return await work(stream);
    } finally {
      this.free(stream);
    }
  }

  /**
   * The stream is idle again, and runs waiting start on the idle streams that are up (this one, or one whose worker
   * came back meanwhile); those left fail when no stream is up, idle or busy, to come free for them.
   */
  private free(stream: number): void {
    this.idle.push(stream);
    while (this.waiting.length > 0) {
      const up = this.takeIdleStreamUp();
      if (up === undefined) break;
      this.waiting.shift()?.start(up);
    }
    if (this.waiting.length > 0 && !this.busyStreamUp()) {
      const error = this.noStreamUpError();
      for (const run of this.waiting.splice(0)) run.reject(error);
    }
  }

  private busyStreamUp(): boolean {
    return this.streams.some((stream, index) => !stream.streamsDown && !this.idle.includes(index));
  }

  private noStreamUpError(): Error {
    return new Error(`${this.name}: all ${this.concurrency} streams are down, their workers restarting`);
  }

  /** Remembers which stream made an output, for recycle(). */
  private async produced<Output extends TensorData>(stream: number, running: Promise<Output>): Promise<Output> {
    const output = await running;
    this.producers.set(output.data.buffer, this.streams[stream]);
    return output;
  }
}

/** Whether every stream has the optional method, so the pool has it too. */
function allDefined<T>(methods: ReadonlyArray<T | undefined>): methods is readonly T[] {
  return methods.every((method) => method !== undefined);
}
