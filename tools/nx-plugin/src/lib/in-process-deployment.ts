/**
 * Decoding inside inference (`genconfig --in-process`): no capture module; inference decodes the cameras itself
 * (CAPTURE_SOURCES), as `npm start -- --in-process` runs it. Each capture module's camera becomes an entry of
 * inference's CAPTURE_SOURCES (what its twin's desired properties set included) and its devices inference's; the
 * preview takes the frames inference offers where camera0's capture offered them. Cameras are changed by redeploying:
 * inference has no twin properties for them.
 */
import { cameraSourceId } from './camera-modules';
import { envValue, isJsonObject, type JsonObject, type JsonValue, setEnv } from './deployment-manifest';

const CAPTURE_MODULE = /^capture\d*$/;
const INFERENCE = 'inference';
/** A capture module's source variables (capture-sources' sourceConfigSpec): what a CAPTURE_SOURCES entry takes. */
const SOURCE_VARIABLE = /^(CAMERA_PATH|SOURCE_ID|FFMPEG_PATH|GST_LAUNCH_PATH|CAPTURE_\w+)$/;
/** Capture's twin properties (sourceTwinSpec) as the variables they stand for. */
const TWIN_VARIABLES: Readonly<Record<string, string>> = { source: 'CAMERA_PATH', fps: 'CAPTURE_FPS', width: 'CAPTURE_WIDTH', height: 'CAPTURE_HEIGHT' };

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
  const captures = captureNames.map((name) => modules[name]);
  const captureEndpoints = new Set(captureNames.flatMap((name) => endpointsOf(modules[name], name)));
  const takesCaptureFrames = (module: JsonObject) => (envValue(module, 'FRAMES_CONNECT') ?? '').split(',').some((endpoint) => captureEndpoints.has(endpoint));

  const twinOf = (name: string) => (content[name] as JsonObject | undefined)?.['properties.desired'];
  setEnv(inference, 'CAPTURE_SOURCES', JSON.stringify(captureNames.map((name, index) => sourceEntry(modules[name], twinOf(name), index))));
  if (isJsonObject(inference['env'])) delete inference['env']['FRAMES_CONNECT'];
  addDevices(inference, captures.flatMap(devicesOf));

  const framesBind = envValue(captures[0], 'FRAMES_BIND');
  const framesConsumers = Object.entries(modules).filter(([name, module]) => name !== INFERENCE && !CAPTURE_MODULE.test(name) && takesCaptureFrames(module));
  if (framesConsumers.length > 0) {
    const port = /:(\d+)$/.exec(framesBind ?? '')?.[1];
    if (framesBind === undefined || port === undefined) throw new Error(`--in-process: capture's FRAMES_BIND (${framesBind ?? 'unset'}) names no port for inference to offer the frames on.`);
    setEnv(inference, 'FRAMES_BIND', framesBind);
    exposePort(inference, `${port}/tcp`);
    for (const [, consumer] of framesConsumers) {
      setEnv(consumer, 'FRAMES_CONNECT', `tcp://${INFERENCE}:${port}`);
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
 * set (they win in a capture module), and its source id by place where unset.
 */
function sourceEntry(capture: JsonObject, desired: JsonValue | undefined, index: number): Record<string, string> {
  const env = isJsonObject(capture['env']) ? capture['env'] : {};
  const variables = Object.keys(env).flatMap((name) => {
    const value = envValue(capture, name);
    return SOURCE_VARIABLE.test(name) && value !== undefined ? [[name, value]] : [];
  });
  const fromTwin = Object.entries(isJsonObject(desired) ? desired : {}).flatMap(([property, value]) =>
    TWIN_VARIABLES[property] !== undefined && (typeof value === 'string' || typeof value === 'number') ? [[TWIN_VARIABLES[property], String(value)]] : [],
  );
  return { SOURCE_ID: cameraSourceId(index), ...Object.fromEntries([...variables, ...fromTwin]) };
}

/** Where a capture module's frames are taken from: its FRAMES_BIND's port under its module name. */
function endpointsOf(capture: JsonObject, name: string): string[] {
  const port = /:(\d+)$/.exec(envValue(capture, 'FRAMES_BIND') ?? '')?.[1];
  return port === undefined ? [] : [`tcp://${name}:${port}`];
}

/** The module's createOptions, made where it has none. */
function createOptionsOf(module: JsonObject): JsonObject {
  const settings = (module['settings'] ??= {}) as JsonObject;
  return (settings['createOptions'] ??= {}) as JsonObject;
}

function hostConfigOf(module: JsonObject): JsonObject {
  return (createOptionsOf(module)['HostConfig'] ??= {}) as JsonObject;
}

function devicesOf(capture: JsonObject): JsonValue[] {
  const devices = hostConfigOf(capture)['Devices'];
  return Array.isArray(devices) ? devices : [];
}

/** The cameras' devices passed into inference's container, each once. */
function addDevices(module: JsonObject, devices: JsonValue[]): void {
  if (devices.length === 0) return;
  const host = hostConfigOf(module);
  const existing = Array.isArray(host['Devices']) ? host['Devices'] : [];
  const seen = new Set(existing.map((device) => JSON.stringify(device)));
  host['Devices'] = [...existing, ...devices.filter((device) => !seen.has(JSON.stringify(device)) && seen.add(JSON.stringify(device)))];
}

function exposePort(module: JsonObject, port: string): void {
  const createOptions = createOptionsOf(module);
  const exposed = isJsonObject(createOptions['ExposedPorts']) ? createOptions['ExposedPorts'] : {};
  createOptions['ExposedPorts'] = { ...exposed, [port]: {} };
}

/** The preview's health panel without the capture modules that are gone. */
function withoutCaptureHealth(module: JsonObject): void {
  const health = envValue(module, 'HEALTH_URLS');
  if (health === undefined) return;
  setEnv(module, 'HEALTH_URLS', health.split(',').filter((entry) => !/^capture\d*=/.test(entry)).join(','));
}
