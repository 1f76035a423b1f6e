import { join } from 'node:path';
import { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { freePort, LineProcess } from '@iev/testing';
import sharp from 'sharp';

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

export interface PipelineOptions {
  /** Each module's IoT Edge environment (an emulated edgeHub's `moduleEnv`); none runs them outside IoT Edge. */
  edgeEnv?: (id: string) => Record<string, string>;
  /** Variables added or overridden per module (undefined removes one). */
  capture?: ModuleEnv;
  inference?: ModuleEnv;
  telemetry?: ModuleEnv;
}

/**
 * The three built modules wired over ipc sockets in `dir`: telemetry, inference (default preset, one thread), capture
 * on the demo video, started in that order (downstream first: peers may start in any order).
 */
export function startPipeline(dir: string, options: PipelineOptions = {}): [telemetry: ModuleProcess, inference: ModuleProcess, capture: ModuleProcess] {
  const frames = `ipc://${join(dir, 'frames')}`;
  const detections = `ipc://${join(dir, 'detections')}`;
  const edgeEnv = options.edgeEnv ?? (() => ({}));
  return [
    new ModuleProcess('telemetry', { ...edgeEnv('telemetry'), DETECTIONS_CONNECT: detections, METRICS_PORT: '0', ...options.telemetry }),
    new ModuleProcess('inference', {
      ...edgeEnv('inference'),
      FRAMES_CONNECT: frames,
      DETECTIONS_BIND: detections,
      DETECTION_PRESET: 'default',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
      ...options.inference,
    }),
    new ModuleProcess('capture', { ...edgeEnv('capture'), CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: frames, METRICS_PORT: '0', ...options.capture }),
  ];
}

/**
 * An emulated edgeHub for the three modules, its state in `dir`, routing telemetry's outputs to IoT Hub as the
 * deployment does; `desired` gives a module twin's desired properties at start.
 */
export function startPipelineEdgeHub(dir: string, desired: Partial<Record<'capture' | 'inference' | 'telemetry' | 'preview', Record<string, unknown>>> = {}): Promise<EdgeHubEmulator> {
  return EdgeHubEmulator.start({
    stateDir: dir,
    // Preview is registered too, so a spec may run it; a module that never connects costs nothing.
    modules: (['capture', 'inference', 'telemetry', 'preview'] as const).map((id) => ({ id, desired: desired[id] })),
    routes: { telemetryToIoTHub: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream' },
  });
}

/** The built preview module on these frames and detections endpoints, showing these sources, and its page's address. */
export async function startPreview(framesConnect: string[], detectionsConnect: string, sources: string[]): Promise<{ preview: ModuleProcess; url: string }> {
  const port = await freePort();
  const preview = new ModuleProcess('preview', {
    FRAMES_CONNECT: framesConnect.join(','),
    DETECTIONS_CONNECT: detectionsConnect,
    PREVIEW_PORT: String(port),
    PREVIEW_SOURCES: sources.join(','),
    METRICS_PORT: '0',
  });
  return { preview, url: `http://127.0.0.1:${port}` };
}

/** Each source's latest.jpg at the preview, as [width, height]. */
export async function latestPictureSizes(previewUrl: string, sources: string[]): Promise<Array<[number | undefined, number | undefined]>> {
  return Promise.all(
    sources.map(async (source) => {
      const response = await fetch(`${previewUrl}/sources/${source}/latest.jpg`);
      if (response.status !== 200) throw new Error(`${source}'s latest.jpg answered ${response.status}`);
      const { width, height } = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      return [width, height];
    }),
  );
}
