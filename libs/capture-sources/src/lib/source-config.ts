import { MAX_SOURCE_ID_BYTES, sourceIdFault } from '@iev/frame-protocol';
import { assertEachOnce, ConfigError, env, maskCredentials, optional, readConfig, type ConfigOf, type EnvSource, type EnvSpec, type EnvVar } from '@iev/service-runtime';
import { cropVariable } from './crop';
import { settingBeside } from './setting-beside';
import { STREAM_FORMATS } from './stream-input';
import { DECODED_FORMAT_NAMES } from './frame-source';
import type { SourceSettings } from './prepare-source';
import { SOURCE_TYPE_OVERRIDES, type FrameSourceOptions, type SourceTypeOverride } from './resolve-source';

const frameSize = (name: string) => env.integer(name, { min: 0, max: 16384 }, 0);
const frameRate = (name: string) => env.number(name, { min: 0, max: 1000 }, 0);

/** SOURCE_ID goes into every frame header, which holds at most MAX_SOURCE_ID_BYTES of it: a longer one fails each frame. */
function sourceIdVariable(): EnvVar<string> {
  const text = env.string('SOURCE_ID', 'camera0');
  return {
    ...text,
    parse: (raw) => {
      const sourceId = text.parse(raw);
      if (sourceIdFault(sourceId) === 'too long') throw new Error(`must be at most ${MAX_SOURCE_ID_BYTES} bytes in UTF-8`);
      return sourceId;
    },
  };
}

/** One video source's settings, by the capture module's variable names; 0 leaves a dimension or the rate to the source. */
export const sourceConfigSpec = {
  /** The original sample's variable: a video file, /dev/videoN, a GStreamer pipeline, a stream URL or `testsrc`. */
  cameraPath: env.string('CAMERA_PATH', 'assets/demo/demo.mp4'),
  sourceType: env.oneOf('CAPTURE_SOURCE', SOURCE_TYPE_OVERRIDES, 'auto'),
  sourceId: sourceIdVariable(),
  loop: env.boolean('CAPTURE_LOOP', true),
  realtime: env.boolean('CAPTURE_REALTIME', true),
  width: frameSize('CAPTURE_WIDTH'),
  height: frameSize('CAPTURE_HEIGHT'),
  fps: frameRate('CAPTURE_FPS'),
  /** The region of the picture kept (x,y,width,height in pixels or %), before CAPTURE_WIDTH and CAPTURE_HEIGHT scale it. */
  crop: cropVariable('CAPTURE_CROP'),
  v4l2Format: env.oneOf('CAPTURE_V4L2_FORMAT', ['auto', 'mjpeg', 'yuyv422'] as const, 'auto'),
  /** The frames' format out of ffmpeg (a GStreamer pipeline's are BGR24). */
  pixelFormat: env.oneOf('CAPTURE_PIXEL_FORMAT', Object.keys(DECODED_FORMAT_NAMES) as Array<keyof typeof DECODED_FORMAT_NAMES>, 'i420'),
  rtspTransport: env.oneOf('CAPTURE_RTSP_TRANSPORT', ['tcp', 'udp'] as const, 'tcp'),
  /** `mjpeg`: an HTTP(S) MJPEG camera whose multipart stream ffmpeg cannot split, read as bare JPEGs. */
  streamFormat: env.oneOf('CAPTURE_STREAM_FORMAT', STREAM_FORMATS, 'auto'),
  streamTimeout: env.number('CAPTURE_STREAM_TIMEOUT', { min: 0.1, max: 600 }, 10),
  /** Unset: ffmpeg on PATH, else the one npm installed (defaultFfmpegPath). */
  ffmpegPath: optional(env.string('FFMPEG_PATH')),
  gstLaunchPath: env.string('GST_LAUNCH_PATH', 'gst-launch-1.0'),
};

export type SourceConfig = ConfigOf<typeof sourceConfigSpec>;

/** Module twin desired properties a source is restarted with, live: what CAMERA_PATH and CAPTURE_* set. */
export const sourceTwinSpec = {
  source: env.string('source'),
  fps: frameRate('fps'),
  width: frameSize('width'),
  height: frameSize('height'),
  crop: cropVariable('crop'),
};

/** What a user sets (live through a twin too), and how the source is opened, for prepareSource. */
export interface SourceSetup {
  settings: SourceSettings;
  options: FrameSourceOptions & { sourceType: SourceTypeOverride };
}

/** Three frame intervals at `fps` (0: as the source makes them, no interval): a slow source's frames come that far apart. */
const threeFrameIntervalsMs = (fps: number) => (fps > 0 ? 3000 / fps : 0);

/** A live source silent for CAPTURE_STREAM_TIMEOUT, or three frame intervals at a slow CAPTURE_FPS, is restarted. */
export function stallAfterMs(streamTimeoutSeconds: number, fps: number): number {
  return Math.max(streamTimeoutSeconds * 1000, threeFrameIntervalsMs(fps));
}

/**
 * The setting that gives stallAfterMs's limit, for a stall's error (SourceSupervisorOptions.stallSetting): the
 * CAPTURE_STREAM_TIMEOUT beside the source's CAMERA_PATH (`sourceSetting`, settingBeside), or, where three frame
 * intervals are longer, the rate: its CAPTURE_FPS, or `twinFpsSetting` where a twin set the rate (`fps`).
 */
export function stallSetting(limit: { sourceSetting: string; streamTimeoutSeconds: number; fps: number; twinFpsSetting?: string }): string {
  const { sourceSetting, streamTimeoutSeconds, fps, twinFpsSetting } = limit;
  if (threeFrameIntervalsMs(fps) <= streamTimeoutSeconds * 1000) return settingBeside(sourceSetting, 'CAPTURE_STREAM_TIMEOUT');
  return `three frame intervals at ${twinFpsSetting ?? settingBeside(sourceSetting, 'CAPTURE_FPS')}`;
}

/**
 * prepareSource's arguments for a source's settings; given bufferHeld, frames are cut into reused buffers,
 * onDecoderMessage hears the decoder's warnings and errors, and onWarning the source's own (FrameSourceOptions).
 */
export function sourceSetup(
  config: SourceConfig,
  { bufferHeld, onDecoderMessage, onWarning }: Pick<FrameSourceOptions, 'bufferHeld' | 'onDecoderMessage' | 'onWarning'> = {},
): SourceSetup {
  return {
    settings: { source: config.cameraPath, fps: config.fps, width: config.width, height: config.height, crop: config.crop },
    options: {
      sourceType: config.sourceType,
      sourceId: config.sourceId,
      loop: config.loop,
      realtime: config.realtime,
      ffmpegPath: config.ffmpegPath,
      gstLaunchPath: config.gstLaunchPath,
      v4l2InputFormat: config.v4l2Format === 'auto' ? undefined : config.v4l2Format,
      // I420 is half the bytes of BGR24 to read from ffmpeg, send, and receive; the consumers convert it where they read it.
      pixelFormat: DECODED_FORMAT_NAMES[config.pixelFormat],
      rtspTransport: config.rtspTransport,
      streamFormat: config.streamFormat,
      streamTimeoutSeconds: config.streamTimeout,
      bufferHeld,
      onDecoderMessage,
      onWarning,
    },
  };
}

/**
 * A source added to such a list later (a camera inference's twin adds), read as an entry that sets only its SOURCE_ID
 * would be: the rest from `fallback`, then the defaults. `fallback` was checked with the list (readSourceList).
 */
export function readAddedSource(sourceId: string, fallback: EnvSource): SourceConfig {
  return readConfig(sourceConfigSpec, { ...fallback, SOURCE_ID: sourceId });
}

/**
 * Several sources in one variable, as a JSON array of objects that set the capture module's variables for each, e.g.
 * `[{"CAMERA_PATH": "/dev/video0"}, {"CAMERA_PATH": "rtsp://door.local/stream", "SOURCE_ID": "door"}]`. What an entry
 * leaves unset is read from `fallback` (the module's own environment), then the defaults; SOURCE_ID defaults to
 * camera0, camera1, ... by place, and CAMERA_PATH has no default. Every problem is reported at once, naming the entry.
 * `entrySpec` names variables an entry may set for its source alone that the module, not capture, reads (inference's
 * IGNORE_REGIONS): not inherited from `fallback`, where the module reads them itself; an entry may give them as any
 * JSON (a list), read as its text.
 */
export function readSourceList(name: string, fallback: EnvSource): SourceConfig[];
export function readSourceList<E extends EnvSpec>(name: string, fallback: EnvSource, entrySpec: E): (SourceConfig & Partial<ConfigOf<E>>)[];
export function readSourceList(name: string, fallback: EnvSource, entrySpec: EnvSpec = {}): SourceConfig[] {
  const raw = fallback[name];
  if (raw === undefined || raw.trim() === '') return [];
  // Not quoted back: a camera's URL may carry its password.
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch {
    throw new ConfigError([`${name} must be a JSON array of objects, and is not JSON`]);
  }
  if (!Array.isArray(entries) || entries.length === 0) throw new ConfigError([`${name} must be a JSON array of at least one object (got ${Array.isArray(entries) ? 'an empty one' : typeof entries})`]);
  const problems: string[] = [];
  const inherited = inheritedVariables(name, fallback, problems);
  const configs: SourceConfig[] = [];
  for (const [index, entry] of entries.entries()) {
    const where = `${name}[${index}]`;
    const own = entryVariables(entry, where, entrySpec, problems);
    if (!own) continue;
    const source = readEntry(where, () => readConfig(sourceConfigSpec, { ...inherited, SOURCE_ID: `camera${index}`, ...own }), problems);
    const module = readEntry(where, () => readConfig(optionalSpec(entrySpec), own), problems);
    if (source && module) configs.push({ ...source, ...module });
  }
  try {
    assertEachOnce(configs.map(({ sourceId }) => sourceId), 'SOURCE_ID');
  } catch (error) {
    problems.push(`${name} ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return configs;
}

/** An entry's variables read by `read`, or undefined with its problems added, each naming the entry. */
function readEntry<T>(where: string, read: () => T, problems: string[]): T | undefined {
  try {
    return read();
  } catch (error) {
    problems.push(...(error instanceof ConfigError ? error.problems : [(error as Error).message]).map((problem) => `${where}: ${maskCredentials(problem)}`));
    return undefined;
  }
}

/** The spec with every variable optional: an entry leaves its own variables unset as it likes. */
const optionalSpec = (spec: EnvSpec): EnvSpec => Object.fromEntries(Object.entries(spec).map(([key, variable]) => [key, optional(variable)]));

const SOURCE_VARIABLES = new Set(Object.values(sourceConfigSpec).flatMap(({ names }) => names));

/**
 * The module's environment as the entries inherit it. A source variable it sets to a bad value is reported once, by
 * its own name, and left out: it is the module's setting that is wrong, not each entry that leaves it unset.
 */
function inheritedVariables(listName: string, fallback: EnvSource, problems: string[]): EnvSource {
  const inherited = { ...fallback };
  for (const variable of Object.values(sourceConfigSpec)) {
    for (const name of variable.names) {
      const value = fallback[name];
      if (value === undefined) continue;
      try {
        variable.parse(value);
      } catch (error) {
        problems.push(maskCredentials(`${name} ${(error as Error).message} (got ${JSON.stringify(value)}), which each ${listName} entry that leaves it unset inherits`));
        delete inherited[name];
      }
    }
  }
  return inherited;
}

/**
 * An entry's variables as text, with its problems added: a name no source reads, a value not text, no CAMERA_PATH; the
 * rest are still read, so their problems are told too. Undefined when the entry is not an object.
 */
function entryVariables(entry: unknown, where: string, entrySpec: EnvSpec, problems: string[]): EnvSource | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    problems.push(`${where} must be an object of variables`);
    return undefined;
  }
  const own: EnvSource = {};
  const entryOnly = new Set(Object.values(entrySpec).flatMap(({ names }) => names));
  for (const [key, value] of Object.entries(entry)) {
    if (entryOnly.has(key)) own[key] = typeof value === 'string' ? value : JSON.stringify(value);
    else if (!SOURCE_VARIABLES.has(key)) problems.push(`${where}.${key} is not a source's variable (${[...SOURCE_VARIABLES, ...entryOnly].join(', ')})`);
    else if (['string', 'number', 'boolean'].includes(typeof value)) own[key] = String(value);
    else problems.push(`${where}.${key} must be a string, number or boolean`);
  }
  if (!('CAMERA_PATH' in entry)) problems.push(`${where}.CAMERA_PATH is required`);
  return own;
}
