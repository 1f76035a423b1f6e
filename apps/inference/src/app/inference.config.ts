import { readSourceList, type SourceConfig } from '@iev/capture-sources';
import { twinKey } from '@iev/iot-edge';
import { assertOwnPorts, bindOnListenHost, ConfigError, endpointAddress, env, listenHost, optional, readConfig, type ConfigOf } from '@iev/service-runtime';
import { readCurveSettings, type CurveSettings } from '@iev/zmq-transport';
import { backendChoiceSpec, regionListVariable, regionsBySourceVariable, STUCK_FLOOR_MS, withOwnRegionLists } from '@iev/detection-pipeline';
import { DEFAULT_LINE_TRACKER_OPTIONS as TRACKING } from '@iev/text-recognition';
import { tensorRtConfigSpec } from '@iev/tensorrt-backend';
import { FORGET_SILENT_SOURCE_MS } from './inference.metrics';

const presetName = (name: string) => env.oneOf(name, ['seed', 'default'] as const, 'seed');
/** PaddleOCR's own flags (det_db_thresh, ...); unset keeps the preset's value. */
const detectionSettings = (names: { thresh: string; boxThresh: string; unclipRatio: string; limitSideLen: string }) => ({
  thresh: optional(env.number(names.thresh, { min: 0, max: 1 })),
  boxThresh: optional(env.number(names.boxThresh, { min: 0, max: 1 })),
  unclipRatio: optional(env.number(names.unclipRatio, { min: 0.1, max: 10 })),
  limitSideLen: optional(env.integer(names.limitSideLen, { min: 32, max: 4096 })),
});

/**
 * HANG_EXIT_MS: 5 minutes by default. A piece is told stuck after 60 s, or ten times its stage's median time where
 * that is longer (a GPU's first run, a board at seconds a frame, a busy CPU are judged so), and a stall that ends
 * (swapping, a CPU throttled) ends within that; past it, /health has said 503 for four minutes, and a restart costs a
 * model load, where the hang would cost every frame from then on. 0: never. Below 60 s it could not mean what it says:
 * nothing is stuck sooner.
 */
const HANG_EXIT_DEFAULT_MS = 300_000;

/** Milliseconds up to a day: 0 (never), or at least floorMs, below which the setting could not mean what it says (`why`). */
function neverOrAtLeastMs(name: string, floorMs: number, defaultMs: number, why: string) {
  const integer = env.integer(name, { min: 0, max: 86_400_000 }, defaultMs);
  return {
    ...integer,
    parse: (raw: string) => {
      const ms = integer.parse(raw);
      if (ms > 0 && ms < floorMs) throw new Error(`must be 0 (never) or from ${floorMs} to 86400000: ${why}`);
      return ms;
    },
  };
}

const hangExitMs = neverOrAtLeastMs('HANG_EXIT_MS', STUCK_FLOOR_MS, HANG_EXIT_DEFAULT_MS, `a stage is taken for hung after ${STUCK_FLOOR_MS / 1000} s at the soonest`);

/**
 * INFERENCE_FORGET_SOURCE_MS: an hour by default, as telemetry's TELEMETRY_FORGET_SOURCE_MS. A setting, not the
 * camera's pace (Arrivals): forgetting takes the pace with it, so a camera slower than the floor would have none at
 * each frame's first gap and be forgotten at every frame; and only the deployment says a camera is slow, not gone.
 */
const forgetSourceMs = neverOrAtLeastMs(
  'INFERENCE_FORGET_SOURCE_MS',
  60_000,
  FORGET_SILENT_SOURCE_MS,
  'sooner, a camera whose capture restarts (a stream reconnecting, backing off up to 30 s) would be forgotten and its outage with it',
);

const onOff = (name: string) => optional(env.oneOf(name, ['on', 'off'] as const));
const minTextScore = (name: string) => env.number(name, { min: 0, max: 1 }, 0.5);

export const inferenceConfigSpec = {
  /** One capture per camera: each endpoint is a source of its own, taken in fair turns. */
  framesConnect: env.endpoints('FRAMES_CONNECT', ['tcp://127.0.0.1:5555']),
  detectionsBind: env.endpoint('DETECTIONS_BIND', bindOnListenHost(5556)),
  /** With CAPTURE_SOURCES: where the frames inference decodes are offered to the preview, as capture offers its own; unset: nowhere. */
  framesBind: optional(env.endpoint('FRAMES_BIND')),
  /** Unset: the preset's own model in models/ (seed: the sample's, default: PP-OCRv4's). */
  modelPath: optional(env.string('MODEL_PATH')),
  preset: presetName('DETECTION_PRESET'),
  ...detectionSettings({ thresh: 'DET_DB_THRESH', boxThresh: 'DET_DB_BOX_THRESH', unclipRatio: 'DET_DB_UNCLIP_RATIO', limitSideLen: 'DET_LIMIT_SIDE_LEN' }),
  /** INFERENCE_BACKEND, else the original sample's USE_TENSOR_RT. */
  ...backendChoiceSpec,
  /** TENSORRT_CACHE_DIR, TENSORRT_PRECISION, TENSORRT_PROFILE, TENSORRT_WORKSPACE, TENSORRT_ADDON_PATH: used when TensorRT is selected. */
  ...tensorRtConfigSpec,
  /** 0 = auto: 2 streams on a CPU with 2+ cores, 1 on TensorRT; threads 0 = the cores shared out among them. */
  streams: env.integer('INFERENCE_STREAMS', { min: 0, max: 16 }, 0),
  threads: env.integer('INFERENCE_THREADS', { min: 0, max: 256 }, 0),
  /**
   * The most frames of one model input size that go through the model as one batch; a TensorRT engine's profile
   * covers 1 to it. 1 on these CPUs: larger batches were no faster per frame (`npm run bench -- --batch 1,2,4`).
   */
  batch: env.integer('INFERENCE_BATCH', { min: 1, max: 16 }, 1),
  /** Unset: the preset decides (`default` reads, `seed` only detects, as the original sample). */
  recognition: onOff('RECOGNITION'),
  recModelPath: env.string('REC_MODEL_PATH', 'models/ch_PP-OCRv4_rec_infer.onnx'),
  recDictPath: env.string('REC_DICT_PATH', 'models/ppocr_keys_v1.txt'),
  /** O/0 told apart by their neighbours: auto, only for models of the dictionary it was measured on (resolvesLookalikes). */
  recLookalikes: env.oneOf('REC_LOOKALIKES', ['auto', 'on', 'off'] as const, 'auto'),
  /** PaddleOCR's drop_score: lines read below it are left out. */
  recMinScore: minTextScore('REC_MIN_SCORE'),
  /** Re-read a line that stays in view at least this often; 0 reads every box of every frame. */
  recRefreshMs: env.integer('REC_REFRESH_MS', { min: 0, max: 3_600_000 }, TRACKING.refreshMs),
  /** The longest a line's refresh interval grows to while its reads agree (LineTrackerOptions.refreshMaxMs). */
  recRefreshMaxMs: env.integer('REC_REFRESH_MAX_MS', { min: 0, max: 3_600_000 }, TRACKING.refreshMaxMs),
  /** Re-read a line that changed or grew no sooner than this after its last read (LineTrackerOptions.rereadMs). */
  recRereadMs: env.integer('REC_REREAD_MS', { min: 0, max: 3_600_000 }, TRACKING.rereadMs),
  /** Read a new line once it has been followed in this many frames (LineTrackerOptions.confirmFrames). */
  recConfirmFrames: env.integer('REC_CONFIRM_FRAMES', { min: 1, max: 100 }, TRACKING.confirmFrames),
  /** Per camera (by SOURCE_ID, `*` for every camera), the regions whose boxes are neither read nor published (IgnoredRegions). */
  ignoreRegions: optional(regionsBySourceVariable('IGNORE_REGIONS')),
  /** A frame stuck in detection, or a batch at the recognition model, this long stops the module to be restarted; 0: never. */
  hangExitMs,
  /** A capture module's camera (not decoded here) that sent no frame for this long is forgotten; 0: never. */
  forgetSourceMs,
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9102),
};

export type InferenceConfig = ConfigOf<typeof inferenceConfigSpec>;

export function readInferenceConfig(source: NodeJS.ProcessEnv = process.env): InferenceConfig {
  const config = readConfig(inferenceConfigSpec, source);
  // FRAMES_BIND is bound only for cameras decoded here: otherwise an env file shared with capture may set it to anything.
  const framesBind = config.framesBind === undefined || !namesOwnSources(source) ? undefined : endpointAddress(config.framesBind);
  assertOwnPorts({ DETECTIONS_BIND: endpointAddress(config.detectionsBind), FRAMES_BIND: framesBind, METRICS_PORT: { host: listenHost(source), port: config.metricsPort } });
  return config;
}

/** Whether CAPTURE_SOURCES is set: inference then decodes its own cameras (readInferenceSources refuses an empty list). */
const namesOwnSources = (source: NodeJS.ProcessEnv): boolean => source['CAPTURE_SOURCES'] !== undefined;

/** What a CAPTURE_SOURCES entry may set for its camera besides capture's variables: its own ignore regions. */
const inferenceEntrySpec = { ignoreRegions: regionListVariable('IGNORE_REGIONS') };

/** A camera inference decodes itself, and its own ignore regions where its entry gives them. */
export type InferenceSource = SourceConfig & { ignoreRegions?: unknown[] };

/**
 * CAPTURE_SOURCES: the sources inference decodes itself, with no capture module (see readSourceList); none when unset,
 * and frames come from the captures at FRAMES_CONNECT. Setting both is an error: one of them would be ignored.
 */
export function readInferenceSources(source: NodeJS.ProcessEnv = process.env): InferenceSource[] {
  const sources = readSourceList('CAPTURE_SOURCES', source, inferenceEntrySpec);
  if (sources.length > 0 && source['FRAMES_CONNECT'] !== undefined) {
    throw new ConfigError(['CAPTURE_SOURCES and FRAMES_CONNECT are both set: inference decodes its own sources or takes frames from capture modules, not both']);
  }
  // The twin names each camera by its SOURCE_ID as a twin key (`cameras`): two that become one could not be told apart.
  const byKey = new Map<string, string[]>();
  for (const { sourceId } of sources) byKey.set(twinKey(sourceId), [...(byKey.get(twinKey(sourceId)) ?? []), sourceId]);
  const clashes = [...byKey].filter(([, same]) => same.length > 1);
  if (clashes.length > 0) {
    throw new ConfigError(clashes.map(([key, same]) => `CAPTURE_SOURCES: SOURCE_IDs ${same.map((sourceId) => JSON.stringify(sourceId)).join(' and ')} are both ${key} in the module twin (which turns '.', '$', '#' and spaces into '_'): rename one`));
  }
  return sources;
}

/**
 * The ignore regions at start-up: IGNORE_REGIONS with the lists CAPTURE_SOURCES entries give their own cameras, which
 * win over its key for them; together held to the twin's string size, as they are reported in one.
 */
export function readStartupIgnoreRegions(config: Pick<InferenceConfig, 'ignoreRegions'>, sources: readonly InferenceSource[]): string | undefined {
  try {
    return withOwnRegionLists(config.ignoreRegions, sources.map(({ sourceId, ignoreRegions }) => [sourceId, ignoreRegions] as const));
  } catch (error) {
    throw new ConfigError([`IGNORE_REGIONS with the CAPTURE_SOURCES entries' own lists ${(error as Error).message}`]);
  }
}

/**
 * CURVE on inference's sockets; unset: plain. ZMQ_CURVE_SECRET_KEY(_FILE), FRAMES_CURVE_SERVER_KEY (capture's public
 * key) for the frames it connects to, unless it decodes its own sources (CAPTURE_SOURCES), ZMQ_CURVE_CLIENT_KEYS(_FILE) for
 * the detections socket it binds.
 */
export const readInferenceCurve = (source: NodeJS.ProcessEnv = process.env): CurveSettings | undefined =>
  readCurveSettings(source, { binds: true, connectsTo: namesOwnSources(source) ? [] : ['FRAMES'] });

/** Module twin desired properties inference applies live, between two frames. */
export const inferenceTwinSpec = {
  preset: presetName('preset'),
  recognition: onOff('recognition'),
  minTextScore: minTextScore('minTextScore'),
  /** IGNORE_REGIONS' JSON as text: a twin holds no arrays. */
  ignoreRegions: optional(regionsBySourceVariable('ignoreRegions')),
  ...detectionSettings({ thresh: 'thresh', boxThresh: 'boxThresh', unclipRatio: 'unclipRatio', limitSideLen: 'limitSideLen' }),
};
