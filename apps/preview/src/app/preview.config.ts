import { assertEachOnce, assertOwnPorts, commaSeparated, env, listenHost, readConfig, type ConfigOf, type EnvSource, type EnvVar } from '@iev/service-runtime';
import { MAX_VIEWER_FPS } from '@iev/preview-server';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';

const DEFAULT_HEALTH_URLS = 'capture=http://127.0.0.1:9101/health,inference=http://127.0.0.1:9102/health,telemetry=http://127.0.0.1:9103/health';

/** An optional variable whose text this module parses itself. */
const parsed = <T>(name: string, description: string, parse: (raw: string) => T, fallback: T | ((source: EnvSource) => T)): EnvVar<T> => ({
  names: [name],
  parse,
  fallback,
  required: false,
  description,
});

/** `name=url,...`: the modules whose /health the page shows. */
function parseHealthUrls(raw: string): Record<string, string> {
  if (raw.trim() === '') throw new Error('must name at least one module');
  const entries = commaSeparated(raw).map((entry) => {
    const equals = entry.indexOf('=');
    const [module, url] = [entry.slice(0, equals), entry.slice(equals + 1)];
    // URL.canParse: what fetch will take (a port over 65535 or an unclosed [ would fail every check, never start-up).
    if (equals < 1 || !/^https?:\/\/\S+$/.test(url) || !URL.canParse(url)) throw new Error(`must be name=http://host:port/health pairs separated by commas (bad entry ${JSON.stringify(entry)})`);
    return [module, url] as const;
  });
  // Object.fromEntries would keep the last one's URL only.
  assertEachOnce(entries.map(([module]) => module), 'module');
  return Object.fromEntries(entries);
}

function parseSourceIds(raw: string): string[] {
  if (raw.trim() === '') throw new Error('must name at least one source id');
  return commaSeparated(raw);
}

export const previewConfigSpec = {
  /** One capture per camera, as inference takes them. */
  framesConnect: env.endpoints('FRAMES_CONNECT', ['tcp://127.0.0.1:5555']),
  detectionsConnect: env.endpoint('DETECTIONS_CONNECT', 'tcp://127.0.0.1:5556'),
  port: env.integer('PREVIEW_PORT', { min: 0, max: 65535 }, 8080),
  /** LISTEN_HOST's address unless set (127.0.0.1; 0.0.0.0 in the image), as every module listens. */
  host: parsed('PREVIEW_HOST', 'an address', (raw) => env.string('PREVIEW_HOST').parse(raw), (source) => listenHost(source)),
  /**
   * 5: the pictures a person checking a camera and its detections needs (Frigate's detect default too) at half
   * the CPU of 10; it follows inference, so every frame it takes is shown with its own boxes.
   */
  fps: env.number('PREVIEW_FPS', { min: 0.1, max: MAX_VIEWER_FPS }, 5),
  /** The preview's CPU priority (Linux nice, 0-19): it draws with what the pipeline leaves, never the reverse. */
  nice: env.integer('PREVIEW_NICE', { min: 0, max: 19 }, 10),
  /** Shown as "waiting for ..." until their first frame; other sources appear with theirs. */
  sources: parsed('PREVIEW_SOURCES', 'source ids separated by commas', parseSourceIds, ['camera0']),
  healthUrls: parsed('HEALTH_URLS', 'name=url pairs separated by commas', parseHealthUrls, parseHealthUrls(DEFAULT_HEALTH_URLS)),
  /** No frames, or no detections, from any source for this long (or three of a source's own intervals, if slower) is degraded; 0: never. */
  silenceLimitMs: env.integer('PREVIEW_SILENCE_MS', { min: 0, max: 86_400_000 }, 60_000),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9104),
};

export type PreviewConfig = ConfigOf<typeof previewConfigSpec>;

export function readPreviewConfig(source: NodeJS.ProcessEnv = process.env): PreviewConfig {
  const config = readConfig(previewConfigSpec, source);
  assertOwnPorts({ PREVIEW_PORT: { host: config.host, port: config.port }, METRICS_PORT: { host: listenHost(source), port: config.metricsPort } });
  return config;
}

/**
 * ZMQ_CURVE_SECRET_KEY(_FILE) with FRAMES_CURVE_SERVER_KEY and DETECTIONS_CURVE_SERVER_KEY: CURVE on both links the
 * preview connects, as inference's frames and telemetry's detections; unset: plain.
 */
export const readPreviewCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined => readCurveSettings(source, { binds: false, connectsTo: ['FRAMES', 'DETECTIONS'] });
