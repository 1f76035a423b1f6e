import { spawn, type ChildProcess } from 'node:child_process';
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
/** prom-client's default GC metric (service-runtime prefixes Node's default metrics with `iev_`): the main thread's GC pauses, wall time. */
const GC_SECONDS_METRIC = 'iev_nodejs_gc_duration_seconds_sum';

/** A built module app running as a child process, with its metrics on a port of its own. */
export interface RunningModule {
  process: ChildProcess;
  metricsPort: number;
}

export async function startModule(root: string, name: string, env: Record<string, string>): Promise<RunningModule> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [`${root}/dist/apps/${name}/main.js`], {
    cwd: root,
    env: { ...process.env, ...env, METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { process: child, metricsPort };
}

export function stopModule({ process: child }: RunningModule): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One look at a running module from outside: its threads' and children's CPU from /proc, counters from its metrics. */
export interface ModuleLook {
  cpu: CpuSnapshot;
  /** GC pauses on its main thread so far, wall time. */
  gcMs: number;
  /** CAPTURE_DECODED_FRAMES_METRIC's value; 0 for a module without it. */
  framesDecoded: number;
}

export async function lookAt(module: RunningModule): Promise<ModuleLook> {
  const { pid } = module.process;
  if (pid === undefined) throw new Error('a module process that never started has nothing to look at');
  const cpu = snapshotCpu(pid);
  const response = await fetch(`http://127.0.0.1:${module.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`metrics on port ${module.metricsPort} answered ${response.status}`);
  const metrics = metricSums(await response.text());
  return { cpu, gcMs: (metrics.get(GC_SECONDS_METRIC) ?? 0) * 1000, framesDecoded: metrics.get(CAPTURE_DECODED_FRAMES_METRIC) ?? 0 };
}

/** The preview module on the pipeline's sockets, and a client reading the live stream the page draws from. */
export interface WatchedPreview {
  module: RunningModule;
  /** Ends the client's stream. */
  stopWatching(): void;
}

/** `frames`: each capture's endpoint; the client watches the first source. */
export async function startPreview(root: string, frames: readonly string[], detections: string): Promise<WatchedPreview> {
  const port = await freePort();
  const module = await startModule(root, 'preview', { FRAMES_CONNECT: frames.join(','), DETECTIONS_CONNECT: detections, PREVIEW_PORT: String(port) });
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
