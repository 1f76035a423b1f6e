/**
 * Decoding inside inference (`genconfig --in-process`): no capture module; inference decodes the cameras itself
 * (CAPTURE_SOURCES), as `npm start -- --in-process` runs it. Each capture module's camera becomes an entry of
 * inference's CAPTURE_SOURCES (what its twin's desired properties set included), and what its container needs for the
 * camera (devices, mounts) inference's; the preview takes the frames inference offers where camera0's capture offered
 * them. A camera is then changed through inference's twin (`cameras`) rather than capture's. What cannot be carried
 * over is refused, naming it, rather than left behind.
 */
import { cameraSourceId } from './camera-modules';
import { endpointPort, envValue, isJsonObject, type JsonObject, type JsonValue, setEnv } from './deployment-manifest';

const CAPTURE_MODULE = /^capture\d*$/;
const INFERENCE = 'inference';
/** capture-sources' sourceConfigSpec: the capture module's variables a CAPTURE_SOURCES entry takes (it refuses others). */
export const SOURCE_VARIABLES: readonly string[] = [
  'CAMERA_PATH',
  'CAPTURE_SOURCE',
  'SOURCE_ID',
  'CAPTURE_LOOP',
  'CAPTURE_REALTIME',
  'CAPTURE_WIDTH',
  'CAPTURE_HEIGHT',
  'CAPTURE_FPS',
  'CAPTURE_CROP',
  'CAPTURE_V4L2_FORMAT',
  'CAPTURE_PIXEL_FORMAT',
  'CAPTURE_RTSP_TRANSPORT',
  'CAPTURE_STREAM_FORMAT',
  'CAPTURE_STREAM_TIMEOUT',
  'FFMPEG_PATH',
  'GST_LAUNCH_PATH',
];
/** Capture's twin properties (sourceTwinSpec) as the variables they stand for. */
const TWIN_VARIABLES: Readonly<Record<string, string>> = { source: 'CAMERA_PATH', fps: 'CAPTURE_FPS', width: 'CAPTURE_WIDTH', height: 'CAPTURE_HEIGHT', crop: 'CAPTURE_CROP' };
/** What capture's container has for its camera, which inference's then needs: devices, and mounted files or sockets. */
const CARRIED_HOST_CONFIG = ['Devices', 'Binds', 'Mounts'];
/** Capture's own container settings, which go with it: its logs and its published ports. */
const OWN_HOST_CONFIG = ['LogConfig', 'PortBindings'];

/** The template (after withCameras) with its capture modules folded into inference. */
export function withInProcessCapture(template: JsonObject): JsonObject {
  const result = structuredClone(template);
  const content = result['modulesContent'] as JsonObject;
  const agent = (content['$edgeAgent'] as JsonObject)['properties.desired'] as JsonObject;
  const modules = agent['modules'] as Record<string, JsonObject>;
  const captureNames = Object.keys(modules).filter((name) => CAPTURE_MODULE.test(name));
  const inference = modules[INFERENCE];
  if (captureNames.length === 0) throw new Error('--in-process: the template has no capture module to fold into inference.');
  if (!isJsonObject(inference)) throw new Error(`--in-process: the template has no "${INFERENCE}" module to decode the cameras.`);
  const captureEndpoints = new Set(captureNames.flatMap((name) => endpointsOf(modules[name], name)));
  const framesEndpoints = (module: JsonObject) => (envValue(module, 'FRAMES_CONNECT') ?? '').split(',').filter(Boolean);
  const others = framesEndpoints(inference).filter((endpoint) => !captureEndpoints.has(endpoint));
  if (others.length > 0) throw new Error(`--in-process: inference also takes frames from ${others.join(', ')}, which are no capture module here to fold in.`);

  const twinOf = (name: string) => (content[name] as JsonObject | undefined)?.['properties.desired'];
  setEnv(inference, 'CAPTURE_SOURCES', JSON.stringify(captureNames.map((name, index) => sourceEntry(name, modules[name], twinOf(name), index))));
  deleteEnv(inference, 'FRAMES_CONNECT', 'FRAMES_CURVE_SERVER_KEY');
  for (const name of captureNames) carryHostConfig(name, modules[name], inference);

  const framesConsumers = Object.entries(modules).filter(([name, module]) => name !== INFERENCE && !CAPTURE_MODULE.test(name) && framesEndpoints(module).some((endpoint) => captureEndpoints.has(endpoint)));
  if (framesConsumers.length > 0) {
    const framesBind = envValue(modules[captureNames[0]], 'FRAMES_BIND');
    const port = endpointPort(framesBind);
    if (framesBind === undefined || port === undefined) throw new Error(`--in-process: capture's FRAMES_BIND (${framesBind ?? 'unset'}) names no port for inference to offer the frames on.`);
    setEnv(inference, 'FRAMES_BIND', framesBind);
    exposePort(inference, `${port}/tcp`);
    for (const [name, consumer] of framesConsumers) {
      setEnv(consumer, 'FRAMES_CONNECT', `tcp://${INFERENCE}:${port}`);
      serverKeyForInference(name, consumer);
      withoutCaptureHealth(consumer);
    }
  }

  agent['modules'] = Object.fromEntries(Object.entries(modules).filter(([name]) => !CAPTURE_MODULE.test(name)));
  result['modulesContent'] = Object.fromEntries(Object.entries(content).filter(([name]) => !CAPTURE_MODULE.test(name)));
  const hub = (content['$edgeHub'] as JsonObject | undefined)?.['properties.desired'];
  if (isJsonObject(hub) && isJsonObject(hub['routes'])) {
    hub['routes'] = Object.fromEntries(Object.entries(hub['routes']).filter(([, route]) => !/\/modules\/capture\d*\//.test(JSON.stringify(route))));
  }
  return result;
}

/**
 * A capture module's camera as a CAPTURE_SOURCES entry: its source variables, then what its twin's desired properties
 * set (they win in a capture module), and its source id by place where unset. It must name its camera: an entry has no
 * default one, and inference's image has no demo video.
 */
function sourceEntry(name: string, capture: JsonObject, desired: JsonValue | undefined, index: number): Record<string, string> {
  const variables = SOURCE_VARIABLES.flatMap((variable) => {
    const value = envValue(capture, variable);
    return value === undefined ? [] : [[variable, value]];
  });
  const fromTwin = Object.entries(isJsonObject(desired) ? desired : {}).flatMap(([property, value]) =>
    TWIN_VARIABLES[property] !== undefined && (typeof value === 'string' || typeof value === 'number') ? [[TWIN_VARIABLES[property], String(value)]] : [],
  );
  const entry: Record<string, string> = { SOURCE_ID: cameraSourceId(index), ...Object.fromEntries([...variables, ...fromTwin]) };
  if (entry['CAMERA_PATH'] === undefined) throw new Error(`--in-process: ${name} names no camera (CAMERA_PATH, or its twin's source), which inference needs for each.`);
  return entry;
}

/** Where a capture module's frames are taken from: its FRAMES_BIND's port under its module name. */
function endpointsOf(capture: JsonObject, name: string): string[] {
  const port = endpointPort(envValue(capture, 'FRAMES_BIND'));
  return port === undefined ? [] : [`tcp://${name}:${port}`];
}

function deleteEnv(module: JsonObject, ...names: string[]): void {
  const env = module['env'];
  if (isJsonObject(env)) for (const name of names) delete env[name];
}

/** The module's createOptions, made where it has none. */
function createOptionsOf(module: JsonObject): JsonObject {
  const settings = (module['settings'] ??= {}) as JsonObject;
  return (settings['createOptions'] ??= {}) as JsonObject;
}

function hostConfigOf(module: JsonObject): JsonObject {
  return (createOptionsOf(module)['HostConfig'] ??= {}) as JsonObject;
}

/**
 * What capture's container has for its camera added to inference's, each item once; anything else capture's container
 * sets beyond its own logs and ports (a group, a runtime, privileges) is refused: inference might need it too.
 */
function carryHostConfig(name: string, capture: JsonObject, inference: JsonObject): void {
  const captureHost = hostConfigOf(capture);
  const uncarried = Object.keys(captureHost).filter((key) => !CARRIED_HOST_CONFIG.includes(key) && !OWN_HOST_CONFIG.includes(key));
  if (uncarried.length > 0) {
    throw new Error(`--in-process: ${name}'s createOptions set HostConfig.${uncarried.join(', HostConfig.')}, which inference's container may need in its place: set it on inference in the template.`);
  }
  const host = hostConfigOf(inference);
  for (const key of CARRIED_HOST_CONFIG) {
    const items = captureHost[key];
    if (!Array.isArray(items) || items.length === 0) continue;
    const existing = Array.isArray(host[key]) ? host[key] : [];
    const seen = new Set(existing.map((item) => JSON.stringify(item)));
    host[key] = [...existing, ...items.filter((item) => !seen.has(JSON.stringify(item)) && seen.add(JSON.stringify(item)))];
  }
}

function exposePort(module: JsonObject, port: string): void {
  const createOptions = createOptionsOf(module);
  const exposed = isJsonObject(createOptions['ExposedPorts']) ? createOptions['ExposedPorts'] : {};
  createOptions['ExposedPorts'] = { ...exposed, [port]: {} };
}

/**
 * With CURVE, the frames now come from inference, whose public key a consumer already has for the detections; one
 * without that cannot be told it.
 */
function serverKeyForInference(name: string, consumer: JsonObject): void {
  if (envValue(consumer, 'FRAMES_CURVE_SERVER_KEY') === undefined) return;
  const inferenceKey = envValue(consumer, 'DETECTIONS_CURVE_SERVER_KEY');
  if (inferenceKey === undefined) throw new Error(`--in-process: ${name} has capture's FRAMES_CURVE_SERVER_KEY but not inference's public key (DETECTIONS_CURVE_SERVER_KEY) to take the frames from inference.`);
  setEnv(consumer, 'FRAMES_CURVE_SERVER_KEY', inferenceKey);
}

/** The preview's health panel without the capture modules that are gone. */
function withoutCaptureHealth(module: JsonObject): void {
  const health = envValue(module, 'HEALTH_URLS');
  if (health === undefined) return;
  setEnv(module, 'HEALTH_URLS', health.split(',').filter((entry) => !/^capture\d*=/.test(entry)).join(','));
}
