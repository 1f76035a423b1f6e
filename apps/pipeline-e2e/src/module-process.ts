import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const WORKSPACE_ROOT = join(__dirname, '../../..');
export const DEMO_VIDEO = join(WORKSPACE_ROOT, 'assets/demo/demo.mp4');

/** One built module (dist/apps/<name>/main.js) run as a real process, with its output lines collected. */
export class ModuleProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  /** `env` over this process's; the logs are JSON (logs() reads them) unless LOG_FORMAT is given, undefined for the module's default. */
  constructor(readonly name: string, env: Record<string, string | undefined>) {
    const merged: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', ...env };
    for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
    this.child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'dist/apps', name, 'main.js')], {
      cwd: WORKSPACE_ROOT,
      env: merged,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (into: string[]) => (line: string) => {
      into.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    };
    createInterface({ input: this.child.stdout }).on('line', collect(this.lines));
    createInterface({ input: this.child.stderr }).on('line', collect(this.stderr));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The pino log objects on stdout. */
  logs(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line));
  }

  /** Resolves with the first stdout value the predicate picks out, or rejects after the timeout. */
  async waitFor<T>(pick: (lines: string[]) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this.lines);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}) waiting for ${what}:\n${this.stderr.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${what}; last output:\n${this.lines.slice(-10).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The port its metrics/health server listens on (it logs it once started). */
  metricsPort(): Promise<number> {
    return this.waitFor(
      () => this.logs().find((log) => typeof log['metricsPort'] === 'number')?.['metricsPort'] as number | undefined,
      'the metrics port',
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

type ModuleEnv = Record<string, string | undefined>;

/**
 * The three built modules as IoT Edge runs them, each with its IoT Edge environment from `moduleEnv` (an emulated
 * edgeHub's), wired over ipc sockets in `dir`: telemetry, inference (default preset, one thread), capture on the
 * demo video, in that order (downstream first). `extra` adds or overrides variables per module.
 */
export function startEdgeModules(
  moduleEnv: (id: string) => Record<string, string>,
  dir: string,
  extra: { capture?: ModuleEnv; inference?: ModuleEnv; telemetry?: ModuleEnv } = {},
): ModuleProcess[] {
  const frames = `ipc://${join(dir, 'frames')}`;
  const detections = `ipc://${join(dir, 'detections')}`;
  return [
    new ModuleProcess('telemetry', { ...moduleEnv('telemetry'), DETECTIONS_CONNECT: detections, METRICS_PORT: '0', ...extra.telemetry }),
    new ModuleProcess('inference', {
      ...moduleEnv('inference'),
      FRAMES_CONNECT: frames,
      DETECTIONS_BIND: detections,
      DETECTION_PRESET: 'default',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
      ...extra.inference,
    }),
    new ModuleProcess('capture', { ...moduleEnv('capture'), CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: frames, METRICS_PORT: '0', ...extra.capture }),
  ];
}
