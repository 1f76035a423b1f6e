import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImageView } from '@iev/text-detection';
import { Backoff } from '@iev/service-runtime';
import { processWarnings, type BackendLog, type FrameBoxes, type ImageDetectionRun, type ImageDetectionSettings, type InferenceBackend, type TensorData } from './inference-backend';
import { readModelFile, type ModelFile } from './model-file';
import { foldElementwise } from './onnx-graph/fold-elementwise';
import type { BoxesReply, FrameGeometry, LentSlot, WorkerReply, WorkerRequest } from './onnxruntime-messages';
import { SharedBufferRing, type LentBuffer } from './shared-buffer-ring';

export interface OnnxRuntimeBackendOptions {
  modelPath: string;
  /** modelPath's file already read (to check its input first), shared by a pool's streams; read at load() otherwise. */
  modelFile?: ModelFile;
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
  /**
   * The input's shape changes from run to run (the recognizer: each batch 1-6 lines, as wide as its widest). ONNX
   * Runtime's memory pattern is then off: it plans and keeps one per input shape seen, and RSS crept with them
   * (600 runs of random widths and batches: +32 MB with it, +9 MB and 30 MB less in all without, no slower).
   */
  variableInputShape?: boolean;
  /**
   * Run the model with its element-wise chains folded (foldElementwise; default true): the same outputs to float
   * rounding, faster. False runs the file's graph as it is, as the original sample did.
   */
  foldGraph?: boolean;
  /** The most frames one run takes (INFERENCE_BATCH; default 1): a model whose input cannot take them is refused at load. */
  batch?: number;
  /** Runs are cut to the batch a model fixes and padded up to it (the recognizer's lines): a model may fix any. */
  fitsFixedBatch?: boolean;
  /** Where a graph that could not be folded and a worker restarted after a crash are reported (default: Node's warnings). */
  log?: BackendLog;
}

/**
 * A loaded model: its identity, and the bytes its session was made from, which a restarted worker loads again (the
 * file's own bytes are not kept beside a folded graph).
 */
interface LoadedModel {
  modelId: string;
  sha256: string;
  sessionModel: Uint8Array;
}

/** Each model file's graph as folded for its sessions (foldedGraph), while the file is held. */
const FOLDED_GRAPHS = new WeakMap<ModelFile, Uint8Array>();

/** The first restart of a crashed worker waits this long; each failure soon after doubles it, up to RESTART_MAX_MS. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A restarted worker that stays up this long counts as recovered: its next crash restarts after RESTART_FIRST_MS again. */
const RESTART_STAYS_UP_MS = 60_000;

/**
 * Outputs of run() a caller may have out at once: one being read, one waiting its turn, one being written. Beyond
 * that a run's output is allocated (and is garbage once read).
 */
const OUTPUT_SLOTS = 3;

/**
 * The worker: in an app bundle, its own entry beside main.js; from the sources (tests, scripts), the TypeScript
 * file, compiled as it loads with the workspace's path aliases.
 */
function startWorker(): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(join(__dirname, 'onnxruntime-worker.js'));
  const tsconfig = join(__dirname, '../../../../tsconfig.base.json');
  const bootstrap = [
    `process.env.SWC_NODE_PROJECT = process.env.TS_NODE_PROJECT = ${JSON.stringify(tsconfig)};`,
    ...['@swc-node/register', 'tsconfig-paths/register'].map((hook) => `require(${JSON.stringify(require.resolve(hook))});`),
    `require(${JSON.stringify(join(__dirname, 'onnxruntime-worker.ts'))});`,
  ].join('\n');
  return new Worker(bootstrap, { eval: true });
}

/**
 * The CPU backend: onnxruntime-node's default execution provider, run on a worker thread because
 * session.run blocks its thread for the whole inference (measured: no timer fires during a 180 ms run),
 * which would stop the main thread from draining frames. Frames cross to the worker as their BGR pixels
 * (detectImages: 0.9 MB at 640x480) in a shared slot, are preprocessed there into tensors the worker owns and
 * reuses, and their maps are postprocessed there, after the worker has said the model is done: the stream takes its
 * next frame while the boxes are made, and only the boxes come back. run()'s float tensors cross in shared slots
 * too (its output is read in place until recycle()), so steady-state inference allocates nothing frame-sized on
 * either thread. Transferring buffers instead counted as allocating them on arrival, 5 MB a frame at 640x480, and
 * drove the main thread's mark-compacts.
 */
export class OnnxRuntimeBackend implements InferenceBackend {
  readonly name = 'onnxruntime-cpu';
  readonly runsOnCpu = true;
  private worker?: Worker;
  /** Kept while a crashed worker restarts, so the model's identity never goes away; dispose() drops it. */
  private model?: LoadedModel;
  /** One slot: the input is held for the whole run, which is also what refuses a concurrent run. */
  private readonly inputs = new SharedBufferRing('input', 1);
  /** run()'s outputs: the worker writes them and the caller reads them until it hands them back with recycle(). */
  private readonly outputs = new SharedBufferRing('output', OUTPUT_SLOTS);
  /** The largest output seen: later slots are that big, so an output of a size seen before fits. */
  private outputBytes = 0;
  private pending?: Settlers<WorkerReply>;
  /** Detections whose model is done and whose boxes are still being made, oldest first (the worker's order). */
  private readonly postprocessing: Array<Deferred<FrameBoxes[]>> = [];
  /** The request in flight: dispose() waits for it, since ending the worker mid-run aborts the whole process. */
  private inFlight?: Promise<unknown>;
  /** Set from the moment dispose() is called until it is done: new work is refused meanwhile. */
  private disposing?: Promise<void>;
  /** Why the worker is down, while another is started after it ended on its own: a message to a gone worker would wait forever. */
  private down?: Error;
  private restartTimer?: NodeJS.Timeout;
  private readonly restartBackoff = new Backoff(RESTART_FIRST_MS, RESTART_MAX_MS);
  private readonly log: BackendLog;

  private readonly options: Omit<OnnxRuntimeBackendOptions, 'modelFile'>;
  /** The file read for this backend, until its first load: only the folded graph is kept after that. */
  private fileRead?: ModelFile;

  constructor({ modelFile, ...options }: OnnxRuntimeBackendOptions) {
    this.options = options;
    this.fileRead = modelFile;
    this.log = options.log ?? processWarnings;
  }

  get modelId(): string {
    return this.loadedModel().modelId;
  }

  get modelSha256(): string {
    return this.loadedModel().sha256;
  }

  /** 1 while the worker is down (restarting after it ended on its own), else 0. */
  get streamsDown(): number {
    return this.down ? 1 : 0;
  }

  async load(): Promise<void> {
    await this.disposing; // a load right after dispose() starts a new worker, not one being ended
    if (this.worker || this.model) return;
    const file = this.fileRead ?? (await readModelFile(this.options.modelPath, this.options.modelVariable));
    this.fileRead = undefined;
    let sessionModel: Uint8Array;
    try {
      sessionModel = await this.startSessionOf(file);
    } catch (error) {
      await this.dispose();
      throw new Error(`${this.name}: cannot load ${file.path} (${file.origin}): ${(error as Error).message}`);
    }
    this.model = { modelId: file.modelId, sha256: file.sha256, sessionModel };
  }

  /** A session of the file's graph folded, or as it is where ONNX Runtime refuses that: folding only makes it faster. Resolves with the bytes loaded. */
  private async startSessionOf(file: ModelFile): Promise<Uint8Array> {
    const folded = this.options.foldGraph === false ? file.bytes : this.foldedGraph(file);
    try {
      await this.startSession(folded);
      return folded;
    } catch (error) {
      if (folded === file.bytes) throw error;
      await this.startSession(file.bytes);
      this.log.warn(`${this.name}: ONNX Runtime refused ${file.path} with its element-wise chains folded (${(error as Error).message}); running its graph as it is`);
      return file.bytes;
    }
  }

  /**
   * The graph with its element-wise chains folded, or as it is where folding fails: it only makes the model faster.
   * Folded once per file read, whose streams then share the bytes (~0.2-0.4 s and 4.7 MB of the detection model's).
   */
  private foldedGraph(file: ModelFile): Uint8Array {
    let folded = FOLDED_GRAPHS.get(file);
    if (!folded) {
      try {
        folded = foldElementwise(file.bytes).model;
      } catch (error) {
        this.log.warn(`${this.name}: cannot fold the element-wise chains of ${file.path} (${(error as Error).message}); running its graph as it is`);
        folded = file.bytes;
      }
      FOLDED_GRAPHS.set(file, folded);
    }
    return folded;
  }

  /** A session of `model` on the worker, which is started first where there is none (the first load, a restart). */
  private async startSession(model: Uint8Array): Promise<void> {
    this.worker ??= this.startedWorker();
    await this.request({
      type: 'load',
      model,
      demand: { batch: this.options.batch ?? 1, fitsFixedBatch: this.options.fitsFixedBatch },
      options: {
        intraOpNumThreads: this.options.intraOpThreads ?? 0,
        interOpNumThreads: this.options.interOpThreads ?? 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        enableMemPattern: !this.options.variableInputShape,
        extra: { session: { intra_op: { allow_spinning: this.options.spinWait ? '1' : '0' } } },
      },
    });
    this.down = undefined;
  }

  private startedWorker(): Worker {
    const worker = startWorker();
    worker.unref();
    for (const ring of [this.inputs, this.outputs]) ring.forgetSent(); // a new worker has none of the slots yet
    worker.on('message', (reply: WorkerReply | BoxesReply) => (reply.type === 'boxes' ? this.boxesArrived(reply) : this.settle((pending) => pending.resolve(reply))));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.workerGone(new Error(`${this.name}: worker exited (code ${code})`)));
    return worker;
  }

  /**
   * A float tensor through the model (the recognizer's batches; a detection model's own input). The output goes into
   * a lent slot sized for a detection map, [n, 1, H, W] for an input [n, 3, H, W], or for the largest output seen;
   * one that does not fit (another model's, the first time) comes back as memory of its own.
   */
  async run(input: TensorData): Promise<TensorData> {
    const { length } = input.data;
    const mapBytes = input.dims[0] * input.dims[2] * input.dims[3] * Float32Array.BYTES_PER_ELEMENT;
    const lentInput = this.lendInput(length * Float32Array.BYTES_PER_ELEMENT, 'run');
    new Float32Array(lentInput.buffer, 0, length).set(input.data);
    const lentOutput = this.outputs.acquire(Math.max(mapBytes, this.outputBytes, 1));
    try {
      const reply = await this.request({ type: 'run', input: forWorker(lentInput), dims: input.dims, output: lentOutput && forWorker(lentOutput) });
      if (reply.type !== 'result') throw new Error(`${this.name}: unexpected reply ${reply.type}`);
      const outputLength = reply.dims.reduce((a, b) => a * b);
      this.outputBytes = Math.max(this.outputBytes, outputLength * Float32Array.BYTES_PER_ELEMENT);
      if (reply.data && lentOutput) this.outputs.release(lentOutput.buffer);
      const data = reply.data ?? (lentOutput && new Float32Array(lentOutput.buffer, 0, outputLength));
      if (!data) throw new Error(`${this.name}: the worker sent no output`);
      return { data, dims: reply.dims };
    } catch (error) {
      if (lentOutput) this.outputs.release(lentOutput.buffer);
      throw error;
    } finally {
      this.inputs.release(lentInput.buffer);
    }
  }

  /** The frames' pixels go to the worker one after another in one slot; the worker does the rest (see the worker). */
  async detectImages(images: readonly ImageView[], settings: ImageDetectionSettings): Promise<ImageDetectionRun> {
    const frames: FrameGeometry[] = [];
    let bytes = 0;
    for (const { width, height, stride } of images) {
      frames.push({ offset: bytes, width, height, stride });
      bytes += height * stride;
    }
    const lentInput = this.lendInput(bytes, 'detectImages');
    const pixels = new Uint8Array(lentInput.buffer);
    for (const [i, image] of images.entries()) pixels.set(image.data.subarray(0, frames[i].height * frames[i].stride), frames[i].offset);
    const { preResize, resize, normalize, postprocess } = settings;
    // Waiting before the request goes: the boxes reply may come right behind 'ran', before this call resumes.
    const boxes = deferred<FrameBoxes[]>();
    this.postprocessing.push(boxes);
    try {
      const reply = await this.request({ type: 'detect', input: forWorker(lentInput), frames, settings: { preResize, resize, normalize, postprocess } });
      if (reply.type !== 'ran') throw new Error(`${this.name}: unexpected reply ${reply.type}`);
      return { preprocessMs: reply.preprocessMs, inferenceMs: reply.inferenceMs, frames: boxes.promise };
    } catch (error) {
      // No boxes follow a detection that failed before its model was done (a worker that exited took them all).
      const owed = this.postprocessing.indexOf(boxes);
      if (owed >= 0) this.postprocessing.splice(owed, 1);
      this.unrefWhenIdle();
      throw error;
    } finally {
      this.inputs.release(lentInput.buffer);
    }
  }

  /** The input slot, held for the whole run, which is also what refuses a concurrent one. */
  private lendInput(bytes: number, call: 'run' | 'detectImages'): LentBuffer {
    this.refuseUnlessUp();
    const lent = this.inputs.acquire(bytes);
    if (!lent) throw new Error(concurrentCallMessage(this.name, call));
    return lent;
  }

  /** Work goes only to a worker with the model loaded: not while dispose() ends it, nor while a crashed one restarts. */
  private refuseUnlessUp(): void {
    if (this.disposing) throw new Error(`${this.name}: dispose() has been called`);
    if (this.down) throw new Error(`${this.down.message}; restarting it`);
    this.loadedModel();
  }

  recycle(output: TensorData): void {
    this.outputs.release(output.data.buffer);
  }

  /**
   * Safe to call again while it runs (a retired detection model, a test's clean-up): the calls share one disposal.
   * Work asked for from the moment it is called is refused (see refuseUnlessUp).
   */
  dispose(): Promise<void> {
    this.disposing ??= this.disposeWorker().finally(() => (this.disposing = undefined));
    return this.disposing;
  }

  private async disposeWorker(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await Promise.allSettled([this.inFlight, ...this.postprocessing.map(({ promise }) => promise)]);
    const worker = this.worker;
    if (worker) await this.request({ type: 'dispose' }).catch(() => undefined);
    this.worker = undefined;
    this.model = undefined;
    this.down = undefined;
    worker?.removeAllListeners();
    await worker?.terminate();
    // Whatever still waits on the worker would never settle now that it is gone (its exit no longer reaches workerGone).
    this.failAll(new Error(`${this.name}: disposed`));
  }

  private request(message: WorkerRequest): Promise<WorkerReply> {
    if (this.pending) return Promise.reject(new Error(concurrentCallMessage(this.name, message.type === 'detect' ? 'detectImages' : message.type)));
    const replied = new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker?.ref();
      this.worker?.postMessage(message);
    });
    this.inFlight = replied;
    return replied.then((reply) => {
      if (reply.type === 'error') throw new Error(reply.message);
      return reply;
    });
  }

  private settle(action: (pending: Settlers<WorkerReply>) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    this.unrefWhenIdle();
    if (pending) action(pending);
  }

  private boxesArrived(reply: BoxesReply): void {
    const waiting = this.postprocessing.shift();
    this.unrefWhenIdle();
    if ('error' in reply) waiting?.reject(new Error(`${this.name}: postprocessing failed: ${reply.error}`));
    else waiting?.resolve(reply.frames);
  }

  /**
   * The worker ended on its own (a native crash, out of memory): what waited for it fails, as does every call until
   * another worker has loaded the same model, after a backoff.
   */
  private workerGone(error: Error): void {
    this.worker = undefined;
    this.down = error;
    this.failAll(error);
    this.scheduleRestart(error);
  }

  private scheduleRestart(error: Error): void {
    if (!this.model || this.disposing) return;
    const delayMs = this.restartBackoff.next();
    this.log.warn(`${error.message}: starting another with ${this.model.modelId} in ${delayMs} ms`);
    // Not by itself a reason to keep the process running (a worker at work holds it open).
    this.restartTimer = setTimeout((model: LoadedModel) => void this.restart(model), delayMs, this.model).unref();
  }

  private async restart(model: LoadedModel): Promise<void> {
    this.restartTimer = undefined;
    try {
      await this.startSession(model.sessionModel);
      this.restartBackoff.up(RESTART_STAYS_UP_MS);
      this.log.info(`${this.name}: worker restarted with ${model.modelId}`);
    } catch (error) {
      this.log.warn(`${this.name}: the restarted worker could not load ${model.modelId}: ${(error as Error).message}`);
      // Ended, its exit schedules the next try as a crash's does (one that exited by itself has already); a worker
      // that could not even be made (no thread to be had) has no exit to wait for.
      if (this.disposing) return;
      if (this.worker) void this.worker.terminate();
      else if (!this.restartTimer) this.scheduleRestart(error as Error);
    }
  }

  /** The worker is gone: what waited for it fails. */
  private failAll(error: Error): void {
    for (const waiting of this.postprocessing.splice(0)) waiting.reject(error);
    this.settle((pending) => pending.reject(error));
  }

  /**
   * A worker holds the process open only while it works for us: an idle one (a test that failed before its
   * dispose(), a module shutting down) must not keep Node.js running; one still making boxes must.
   */
  private unrefWhenIdle(): void {
    if (!this.pending && this.postprocessing.length === 0) this.worker?.unref();
  }

  private loadedModel(): LoadedModel {
    if (!this.model) throw new Error(`${this.name}: load() has not completed`);
    return this.model;
  }
}

/** Each call holds the input slot for its whole run, so a second one while it runs is the caller's mistake. */
function concurrentCallMessage(name: string, call: string): string {
  return `${name}: ${call}() must not be called concurrently`;
}

/** A slot as the worker needs it: its buffer only the first time, after which the worker keeps it by name. */
function forWorker({ slot, buffer, fresh }: LentBuffer): LentSlot {
  return fresh ? { slot, buffer } : { slot };
}

interface Settlers<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

interface Deferred<T> extends Settlers<T> {
  promise: Promise<T>;
}

/**
 * A promise and what settles it. Marked handled: a caller that never asks for its boxes (it dropped the frame) must
 * not turn the worker's exit into an unhandled rejection; one that awaits it still gets the error.
 */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
