import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { foldElementwise } from '@iev/inference-backends';

/** What a bare measure saw: runs per second, and how long each run took. */
export interface BareRuns {
  fps: number;
  runMs: number[];
}

/** Bare model runs on the bench's input for about a given time, nothing of ours around them. */
export interface BareMeasure {
  measure(durationMs: number): Promise<BareRuns>;
  release(): Promise<void>;
}

export interface BareSessionsOptions {
  modelPath: string;
  /** onnxruntime-node is loaded from here, like the inference module loads it. */
  workspaceRoot: string;
  /** Sessions running side by side, each on its own thread. */
  sessions: number;
  /** intraOpNumThreads of each; 0 = ONNX Runtime's default (one per physical core). */
  threads: number;
  /**
   * ONNX Runtime's own defaults besides the thread count (spinning on) and the file's graph as it is, or the
   * inference module's options and its folded graph (foldElementwise).
   */
  moduleOptions: boolean;
}

/**
 * A bare `session.run` loop, nothing of ours around it: one session on its thread, fed the same tensor over
 * and over. Plain JavaScript, run as a worker so that several sessions can run at once (session.run blocks the
 * thread that calls it).
 */
const SESSION_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require('node:module').createRequire(workerData.resolveFrom)('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(workerData.model, workerData.sessionOptions);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', workerData.tensor, workerData.dims) };
  parentPort.on('message', async ({ type, durationMs }) => {
    if (type === 'release') {
      await session.release();
      return parentPort.postMessage({ type: 'released' });
    }
    // 'warm-up' runs once: the first run allocates and picks kernels. 'measure' runs until durationMs is up.
    const started = performance.now();
    const deadline = started + (durationMs ?? 0);
    const runMs = [];
    let finished = started;
    do {
      const runStarted = finished;
      // onnxruntime-node's copy of each output, freed at once as the inference module frees its own (freeNow).
      for (const { data } of Object.values(await session.run(feeds))) data.buffer.transfer?.(0);
      finished = performance.now();
      runMs.push(finished - runStarted);
    } while (finished < deadline);
    parentPort.postMessage({ type, runMs, elapsedMs: finished - started });
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((error) => parentPort.postMessage({ type: 'error', message: error.message }));
`;

type Runs = { runMs: number[]; elapsedMs: number };
type Reply = { type: 'ready' | 'released' } | ({ type: 'warm-up' } & Runs) | ({ type: 'measure' } & Runs) | { type: 'error'; message: string };

/** Sessions on worker threads that measure bare `session.run` throughput together. */
export class BareSessions implements BareMeasure {
  private constructor(private readonly workers: Worker[]) {}

  static async open(options: BareSessionsOptions, input: { tensor: Float32Array; dims: number[] }): Promise<BareSessions> {
    const sessionOptions = {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...(options.moduleOptions && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    };
    const model = options.moduleOptions ? foldElementwise(readFileSync(options.modelPath)).model : options.modelPath;
    const workerData = { resolveFrom: join(options.workspaceRoot, 'package.json'), model, sessionOptions, tensor: input.tensor, dims: input.dims };
    const workers = Array.from({ length: options.sessions }, () => new Worker(SESSION_LOOP, { eval: true, workerData }));
    const sessions = new BareSessions(workers);
    try {
      await sessions.all('ready', () => undefined);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return sessions;
  }

  /**
   * Runs every session for about `durationMs` at once, after a warm-up run each, and returns their runs per
   * second added up (each session's runs over its own time, so a run that ends past the deadline is not lost),
   * and every run's time.
   */
  async measure(durationMs: number): Promise<BareRuns> {
    await this.all('warm-up', (worker) => worker.postMessage({ type: 'warm-up' }));
    const results = await this.all('measure', (worker) => worker.postMessage({ type: 'measure', durationMs }));
    return {
      fps: results.reduce((sum, { runMs, elapsedMs }) => sum + (runMs.length * 1000) / elapsedMs, 0),
      runMs: results.flatMap(({ runMs }) => runMs),
    };
  }

  async release(): Promise<void> {
    await this.all('released', (worker) => worker.postMessage({ type: 'release' })).catch(() => undefined);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Sends to each worker and collects each one's reply of the given type. */
  private all<T extends Reply['type']>(type: T, send: (worker: Worker) => void): Promise<Array<Extract<Reply, { type: T }>>> {
    return Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<Extract<Reply, { type: T }>>((resolve, reject) => {
            const onMessage = (reply: Reply) => {
              if (reply.type !== type && reply.type !== 'error') return;
              worker.off('message', onMessage).off('error', reject);
              if (reply.type === 'error') reject(new Error(`bare session: ${reply.message}`));
              else resolve(reply as Extract<Reply, { type: T }>);
            };
            worker.on('message', onMessage).once('error', reject);
            send(worker);
          }),
      ),
    );
  }
}
