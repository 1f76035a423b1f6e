import { join } from 'node:path';
import { LineProcess } from '@iev/testing';

export const WORKSPACE_ROOT = join(__dirname, '../../..');
export const DEMO_VIDEO = join(WORKSPACE_ROOT, 'assets/demo/demo.mp4');

/** This process's env with `env` over it, JSON logs unless `env` names LOG_FORMAT; an undefined value removes the variable. */
function moduleProcessEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

/** One built module (dist/apps/<name>/main.js) run as a real process, with its output lines collected. */
export class ModuleProcess extends LineProcess {
  /** `env` over this process's; the logs are JSON (logs() reads them) unless LOG_FORMAT is given, undefined for the module's default. */
  constructor(name: string, env: Record<string, string | undefined>) {
    super(name, process.execPath, [join(WORKSPACE_ROOT, 'dist/apps', name, 'main.js')], { cwd: WORKSPACE_ROOT, env: moduleProcessEnv(env) });
  }

  /** The pino log objects on stdout. */
  logs(): Record<string, unknown>[] {
    return this.stdout.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line));
  }

  /** The port its metrics/health server listens on (it logs it once started). */
  metricsPort(): Promise<number> {
    return this.waitFor(
      () => this.logs().find((log) => typeof log['metricsPort'] === 'number')?.['metricsPort'] as number | undefined,
      'the metrics port',
    );
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
