import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InferenceBackend, TensorData } from './inference-backend';
import { readModelFile, type ModelFile } from './model-file';

export interface OnnxRuntimeBackendOptions {
  modelPath: string;
  /** The setting that names the model, for errors (default MODEL_PATH). */
  modelVariable?: string;
  /** Threads for one operator; 0 lets ONNX Runtime choose (one per core). */
  intraOpThreads?: number;
  /** Threads across independent operators; the DB model is a chain, so 1 is right. */
  interOpThreads?: number;
  /**
   * Let idle intra-op threads busy-wait between operators (ONNX Runtime's own default). Off by default: on a
   * small edge CPU shared with the decoder and the sockets, spinning threads starve them and each other
   * (measured on 2 cores: 7.2-7.5 pipeline fps without spinning, 3.4-5.6 with it).
   */
  spinWait?: boolean;
}

type WorkerReply =
  | { type: 'loaded' | 'disposed' }
  | { type: 'result'; buffer: ArrayBuffer; data: Float32Array; dims: number[] }
  | { type: 'error'; message: string; buffer?: ArrayBuffer; outputBuffer?: ArrayBuffer };

/** The worker script sits beside this file in the sources, and beside main.js in an app bundle. */
const WORKER_SCRIPT = join(__dirname, 'onnxruntime-worker.js');

/**
 * The CPU backend: onnxruntime-node's default execution provider, run on a worker thread because
 * session.run blocks its thread for the whole inference (measured: no timer fires during a 180 ms run),
 * which would stop the main thread from draining frames. The input tensor is copied once (~1 ms for
 * 960x960) into a buffer that travels to the worker and back; the output is transferred, not copied, and a
 * recycled output buffer is written in place, so steady-state inference allocates nothing on the main thread
 * (3.7 MB a frame at 960x960, which otherwise drives most of its garbage collection).
 */
export class OnnxRuntimeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-cpu';
  private worker?: Worker;
  private model?: ModelFile;
  private inputBuffer = new ArrayBuffer(0);
  /** Output maps handed back by recycle(): run() lends one to the worker, which has the model write into it. */
  private readonly spareOutputs: ArrayBuffer[] = [];
  private pending?: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };
  /** The request in flight: dispose() waits for it, since ending the worker mid-run aborts the whole process. */
  private inFlight?: Promise<unknown>;
  private disposing?: Promise<void>;

  constructor(private readonly options: OnnxRuntimeBackendOptions) {}

  get modelId(): string {
    return this.loadedModel().modelId;
  }

  get modelSha256(): string {
    return this.loadedModel().sha256;
  }

  async load(): Promise<void> {
    if (this.worker) return;
    const model = await readModelFile(this.options.modelPath, this.options.modelVariable);
    const worker = new Worker(WORKER_SCRIPT);
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.settle((pending) => pending.resolve(reply)));
    worker.on('error', (error) => this.settle((pending) => pending.reject(error)));
    worker.on('exit', (code) => this.settle((pending) => pending.reject(new Error(`${this.name}: worker exited (code ${code})`))));
    this.worker = worker;
    try {
      await this.request({
        type: 'load',
        model: model.bytes,
        options: {
          intraOpNumThreads: this.options.intraOpThreads ?? 0,
          interOpNumThreads: this.options.interOpThreads ?? 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          extra: { session: { intra_op: { allow_spinning: this.options.spinWait ? '1' : '0' } } },
        },
      });
    } catch (error) {
      await this.dispose();
      throw new Error(`${this.name}: cannot load ${this.options.modelPath}: ${(error as Error).message}`);
    }
    this.model = model;
  }

  async run(input: TensorData): Promise<TensorData> {
    this.loadedModel();
    const bytes = input.data.length * Float32Array.BYTES_PER_ELEMENT;
    if (this.inputBuffer.byteLength < bytes) this.inputBuffer = new ArrayBuffer(bytes);
    new Float32Array(this.inputBuffer, 0, input.data.length).set(input.data);
    const buffer = this.inputBuffer;
    this.inputBuffer = new ArrayBuffer(0); // detached by the transfer until the worker hands it back
    const outputBuffer = this.spareOutputs.pop();
    const reply = await this.request({ type: 'run', buffer, length: input.data.length, dims: input.dims, outputBuffer }, outputBuffer ? [buffer, outputBuffer] : [buffer]);
    if (reply.type !== 'result') throw new Error(`${this.name}: unexpected reply ${reply.type}`);
    this.inputBuffer = reply.buffer;
    return { data: reply.data, dims: reply.dims };
  }

  recycle(output: TensorData): void {
    const { buffer, byteOffset } = output.data;
    // Keep two: one being postprocessed while the next frame is in the model, one spare.
    if (byteOffset === 0 && buffer instanceof ArrayBuffer && this.spareOutputs.length < 2) this.spareOutputs.push(buffer);
  }

  /** Safe to call again while it runs (a retired detection model, a test's clean-up): the calls share one disposal. */
  dispose(): Promise<void> {
    this.disposing ??= this.disposeWorker().finally(() => (this.disposing = undefined));
    return this.disposing;
  }

  private async disposeWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.inFlight?.catch(() => undefined);
    if (this.model) await this.request({ type: 'dispose' }).catch(() => undefined);
    this.worker = undefined;
    this.model = undefined;
    worker.removeAllListeners();
    await worker.terminate();
  }

  private request(message: object, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.pending) return Promise.reject(new Error(`${this.name}: run() must not be called concurrently`));
    const replied = new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      // A worker holds the process open only while it works for us: an idle one (a test that failed before its
      // dispose(), a module shutting down) must not keep Node.js running.
      this.worker?.ref();
      this.worker?.postMessage(message, transfer);
    });
    this.inFlight = replied;
    return replied.then((reply) => {
      if (reply.type === 'error') {
        if (reply.buffer) this.inputBuffer = reply.buffer;
        if (reply.outputBuffer) this.spareOutputs.push(reply.outputBuffer);
        throw new Error(reply.message);
      }
      return reply;
    });
  }

  private settle(action: (pending: NonNullable<OnnxRuntimeBackend['pending']>) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    this.worker?.unref();
    if (pending) action(pending);
  }

  private loadedModel(): ModelFile {
    if (!this.model) throw new Error(`${this.name}: load() has not completed`);
    return this.model;
  }
}
