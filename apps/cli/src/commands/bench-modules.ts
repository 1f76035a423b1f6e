import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPEATED_SIGNAL_MS } from '@iev/service-runtime';
import { freePort, metricSums } from '@iev/testing';
import { snapshotCpu, type CpuSnapshot } from './process-cpu';

/**
 * The capture module's environment in the bench: the demo video looped and decoded on demand (CAPTURE_REALTIME=false:
 * frames only as fast as inference takes them), a camera faster than the model, so the bench measures the model and
 * our code, not the video's 30 fps.
 */
export const BENCH_CAPTURE_ENV = { CAPTURE_LOOP: 'true', CAPTURE_REALTIME: 'false' } as const;

/** Capture's counter of frames its decoders delivered, taken or not. */
export const CAPTURE_DECODED_FRAMES_METRIC = 'iev_capture_frames_decoded_total';
/** The same, of the decoders inference runs itself (CAPTURE_SOURCES). */
const INFERENCE_DECODED_FRAMES_METRIC = 'iev_inference_source_frames_decoded_total';
/** prom-client's default GC metric (service-runtime prefixes Node's default metrics with `iev_`): the main thread's GC pauses, wall time. */
const GC_SECONDS_METRIC = 'iev_nodejs_gc_duration_seconds_sum';

/** A built module app running as a child process, with its metrics on a port of its own. */
export interface RunningModule {
  /** Which module this is, for messages: its app's name, or more where several run (`capture camera1`). */
  label: string;
  process: ChildProcess;
  metricsPort: number;
}

async function startModule(root: string, name: string, env: Record<string, string>, label = name): Promise<RunningModule> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [`${root}/dist/apps/${name}/main.js`], {
    cwd: root,
    env: { ...process.env, ...env, METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { label, process: child, metricsPort };
}

function stopModule({ process: child }: RunningModule): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** What a stage of the bench runs outside this process: module processes, and a temporary folder for their sockets. */
export interface BenchStage {
  /** The stage's own temporary folder, removed when it ends. */
  readonly dir: string;
  /**
   * A built module app (dist/apps/<name>/main.js) as a child process, stopped when the stage ends if not before;
   * `label` names it in messages (default `name`).
   */
  startModule(root: string, name: string, env: Record<string, string>, label?: string): Promise<RunningModule>;
  /** Stops the stage's modules (SIGCONT, then SIGTERM) and waits for them to exit. */
  stopModules(): Promise<void>;
  /** Settles as `work` does, unless SIGINT or SIGTERM interrupts the stage first: then it rejects at once. */
  unlessInterrupted<T>(work: Promise<T>): Promise<T>;
}

/**
 * Runs `work` as a stage of the bench (BenchStage): however it ends, its modules are stopped and its folder removed.
 * A Node.js process ended by a signal it does not handle runs no `finally`, and would leave them behind (some
 * paused, the bench pauses modules with SIGSTOP), so the stage handles SIGINT and SIGTERM while it runs: the first
 * interrupts it (unlessInterrupted rejects, `work` unwinds, and the stage cleans up as after any failure); another,
 * for a clean-up that hangs, kills the modules and exits at once.
 */
export async function runBenchStage<T>(prefix: string, log: (line: string) => void, work: (stage: BenchStage) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const modules: RunningModule[] = [];
  // Synchronous, as an 'exit' handler must be: SIGKILL stops even a paused process (SIGCONT lets it go at once).
  const killNow = () => {
    for (const { process: child } of modules) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const interruption = new AbortController();
  const interrupted = new Promise<never>((_, reject) => interruption.signal.addEventListener('abort', () => reject(interruption.signal.reason)));
  interrupted.catch(() => undefined); // awaited only through unlessInterrupted, if at all
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interruption.signal.aborted) {
      interruptedAt = performance.now();
      log(`${signal}: stopping the bench's modules (another SIGINT or SIGTERM kills them at once)`);
      interruption.abort(new Error(`the bench was interrupted (${signal})`));
    } else if (performance.now() - interruptedAt >= REPEATED_SIGNAL_MS) {
      process.exit(1); // killNow, on 'exit'
    }
  };
  const stopModules = async () => {
    // SIGCONT first: a paused process does not act on SIGTERM.
    for (const { process: child } of modules) child.kill('SIGCONT');
    await Promise.all(modules.map(stopModule));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('exit', killNow);
  try {
    return await work({
      dir,
      startModule: async (root, name, env, label) => {
        const module = await startModule(root, name, env, label);
        modules.push(module);
        return module;
      },
      stopModules,
      unlessInterrupted: (running) => Promise.race([running, interrupted]),
    });
  } finally {
    await stopModules();
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', killNow);
  }
}

/** One look at a running module from outside: its threads' and children's CPU from /proc, counters from its metrics. */
export interface ModuleLook {
  cpu: CpuSnapshot;
  /** GC pauses on its main thread so far, wall time. */
  gcMs: number;
  /** Frames its decoders delivered (CAPTURE_DECODED_FRAMES_METRIC, or inference's own); 0 for a module without any. */
  framesDecoded: number;
}

export async function lookAt(module: RunningModule): Promise<ModuleLook> {
  const { pid } = module.process;
  if (pid === undefined) throw new Error('a module process that never started has nothing to look at');
  const cpu = snapshotCpu(pid);
  const response = await fetch(`http://127.0.0.1:${module.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`metrics on port ${module.metricsPort} answered ${response.status}`);
  const metrics = metricSums(await response.text());
  return { cpu, gcMs: (metrics.get(GC_SECONDS_METRIC) ?? 0) * 1000, framesDecoded: metrics.get(CAPTURE_DECODED_FRAMES_METRIC) ?? metrics.get(INFERENCE_DECODED_FRAMES_METRIC) ?? 0 };
}

/** The preview module on the pipeline's sockets, and a client reading the live stream the page draws from. */
export interface WatchedPreview {
  module: RunningModule;
  /** Ends the client's stream. */
  stopWatching(): void;
}

/** `frames`: each capture's endpoint, or the one inference offers its own cameras' frames on; the client watches the first source. */
export async function startPreview(stage: BenchStage, root: string, frames: readonly string[], detections: string): Promise<WatchedPreview> {
  const port = await freePort();
  const module = await stage.startModule(root, 'preview', { FRAMES_CONNECT: frames.join(','), DETECTIONS_CONNECT: detections, PREVIEW_PORT: String(port) });
  const watching = new AbortController();
  const stream = `http://127.0.0.1:${port}/sources/camera0/live.mjpeg`;
  void (async () => {
    for (;;) {
      try {
        const response = await fetch(stream, { signal: watching.signal });
        // Read and drop: what the page costs the preview (it draws the boxes itself).
        for await (const chunk of response.body ?? []) void chunk;
      } catch {
        if (watching.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // not serving yet
    }
  })();
  return { module, stopWatching: () => watching.abort() };
}
