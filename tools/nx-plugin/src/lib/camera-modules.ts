/**
 * Several cameras in one deployment, the IoT Edge way: one capture module per camera, each with its own twin,
 * restart policy and process, and the inference module taking frames from all of them. The template's `capture`
 * module is camera0; camera k (k ≥ 1) is a copy named `capture<k>` (`iotedge list`: capture, capture1, capture2...).
 */
import { endpointPort, envValue, isJsonObject, type JsonObject, type JsonValue, setEnv } from './deployment-manifest';

/** The issue's range is two to eight cameras per edge box; ten keeps every camera's ports clear of the others'. */
export const MAX_CAMERAS = 10;
/**
 * Camera k's ports are camera0's plus k × 10 (frames 5555, 5565, ...; metrics 9101, 9111, ...; the debug inspector's
 * host port 9229, 9239, ...): every capture listens on its own, so the manifest runs under the edge simulator and with
 * host networking too, where the modules share one network stack. `npm start` numbers its captures the same way.
 */
export const CAMERA_PORT_STEP = 10;

const CAPTURE = 'capture';
/** The template's camera: camera0's device, which each camera's copy replaces with its own. */
const CAMERA_DEVICE = /^\/dev\/video0$/;
const DEVICE_PATH = /^\/dev\/[^\s,]+$/;

export const cameraModuleName = (index: number) => (index === 0 ? CAPTURE : `${CAPTURE}${index}`);
export const cameraSourceId = (index: number) => `camera${index}`;

/** The number of cameras from the command line: a whole number from 1 to MAX_CAMERAS. */
export function parseCameraCount(value: unknown): number {
  const count = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_CAMERAS) {
    throw new Error(`--cameras must be a whole number from 1 to ${MAX_CAMERAS}, got ${JSON.stringify(value)}.`);
  }
  return count;
}

/** The cameras' devices from `--camera-devices` (Nx splits it at the commas): a path under /dev each, none twice. */
export function parseCameraDevices(devices: unknown): string[] | undefined {
  if (devices === undefined) return undefined;
  if (!Array.isArray(devices) || devices.length === 0 || !devices.every((device) => typeof device === 'string' && DEVICE_PATH.test(device))) {
    throw new Error(`--camera-devices must list one device path under /dev per camera, comma-separated, got ${JSON.stringify(devices)}.`);
  }
  const twice = devices.find((device, index) => devices.indexOf(device) !== index);
  if (twice !== undefined) throw new Error(`--camera-devices names ${twice} twice: each camera needs a device of its own.`);
  return devices;
}

/**
 * The template with `cameras` capture modules and inference's FRAMES_CONNECT listing every one's frames endpoint.
 * Camera k's device is `devices[k]`, else `/dev/video<k>`. One camera on its default device returns the template as it is.
 */
export function withCameras(template: JsonObject, cameras: number, devices?: readonly string[]): JsonObject {
  if (devices !== undefined && devices.length !== cameras) throw new Error(`--camera-devices names ${devices.length} devices for ${cameras} cameras: one per camera.`);
  if (cameras === 1 && devices === undefined) return template;
  const result = structuredClone(template);
  const content = result['modulesContent'] as JsonObject;
  const agent = (content['$edgeAgent'] as JsonObject)['properties.desired'] as JsonObject;
  const modules = agent['modules'] as Record<string, JsonObject>;
  const capture = modules[CAPTURE];
  if (!isJsonObject(capture)) throw new Error(`--cameras needs a "${CAPTURE}" module in the template to copy for each camera.`);
  const cameraPath = envValue(capture, 'CAMERA_PATH');
  // Devices named for a template camera that is a file or stream would end up nowhere.
  if (devices !== undefined && !CAMERA_DEVICE.test(cameraPath ?? '')) {
    throw new Error(`--camera-devices: ${CAPTURE}'s CAMERA_PATH (${cameraPath ?? 'unset'}) is not the camera device /dev/video0 to replace.`);
  }
  const framesPort = portOf(envValue(capture, 'FRAMES_BIND'), `${CAPTURE}'s FRAMES_BIND`);
  const deviceOf = (index: number) => devices?.[index] ?? `/dev/video${index}`;

  const cameraModules = Array.from({ length: cameras }, (_, index) => [cameraModuleName(index), cameraModule(capture, index, deviceOf(index))] as const);
  // The captures side by side where the template had its one, so the manifest reads in pipeline order.
  agent['modules'] = replaceEntry(modules, CAPTURE, cameraModules);
  const twin = content[CAPTURE];
  if (isJsonObject(twin)) result['modulesContent'] = replaceEntry(content, CAPTURE, cameraModules.map(([name], index) => [name, cameraTwin(twin, deviceOf(index))]));

  const endpoints = cameraModules.map(([name], index) => `tcp://${name}:${framesPort + index * CAMERA_PORT_STEP}`).join(',');
  const consumers = Object.values(agent['modules'] as Record<string, JsonObject>).filter((module) => envValue(module, 'FRAMES_CONNECT') === `tcp://${CAPTURE}:${framesPort}`);
  if (consumers.length === 0) throw new Error(`--cameras: no module takes frames from tcp://${CAPTURE}:${framesPort} (FRAMES_CONNECT) to connect to every camera.`);
  for (const consumer of consumers) setEnv(consumer, 'FRAMES_CONNECT', endpoints);
  for (const consumer of consumers) showEveryCamera(consumer, cameraModules.map(([name]) => name), Number(envValue(capture, 'METRICS_PORT')));
  return result;
}

/** The preview (a module with PREVIEW_ settings): every camera's source shown from the start, each capture's health. */
function showEveryCamera(module: JsonObject, captureNames: readonly string[], metricsPort: number): void {
  if (!Object.keys(isJsonObject(module['env']) ? module['env'] : {}).some((name) => name.startsWith('PREVIEW_'))) return;
  setEnv(module, 'PREVIEW_SOURCES', captureNames.map((_, index) => cameraSourceId(index)).join(','));
  const health = envValue(module, 'HEALTH_URLS');
  if (typeof health !== 'string' || !Number.isInteger(metricsPort)) return;
  const captureHealth = new RegExp(`^${CAPTURE}=http://${CAPTURE}:${metricsPort}/health$`);
  const entries = health.split(',').flatMap((entry) =>
    captureHealth.test(entry) ? captureNames.map((name, index) => `${name}=http://${name}:${metricsPort + index * CAMERA_PORT_STEP}/health`) : [entry],
  );
  setEnv(module, 'HEALTH_URLS', entries.join(','));
}

/** `object` with the entry `key` replaced by `entries`, in its place. */
function replaceEntry(object: JsonObject, key: string, entries: ReadonlyArray<readonly [string, JsonValue]>): JsonObject {
  return Object.fromEntries(Object.entries(object).flatMap(([name, value]): ReadonlyArray<readonly [string, JsonValue]> => (name === key ? entries : [[name, value]])));
}

/** Camera k's capture module: its own source id, camera device and ports (camera0's ports are the template's). */
function cameraModule(capture: JsonObject, index: number, device: string): JsonObject {
  const module = structuredClone(capture);
  const shift = (port: number) => port + index * CAMERA_PORT_STEP;
  setEnv(module, 'SOURCE_ID', cameraSourceId(index));

  const env = module['env'] as Record<string, JsonObject>;
  for (const [name, { value }] of Object.entries(env)) {
    if (typeof value !== 'string') continue;
    if (name === 'CAMERA_PATH') env[name] = { value: cameraDevice(value, device) };
    else if (name === 'FRAMES_BIND') env[name] = { value: value.replace(/:(\d+)$/, (_, port: string) => `:${shift(Number(port))}`) };
    else if (name === 'METRICS_PORT') env[name] = { value: String(shift(Number(value))) };
  }
  const ports = [portOf(envValue(capture, 'FRAMES_BIND'), `${CAPTURE}'s FRAMES_BIND`), Number(envValue(capture, 'METRICS_PORT'))].filter(Number.isInteger);
  const settings = module['settings'] as JsonObject;
  const createOptions = settings['createOptions'];
  if (isJsonObject(createOptions)) settings['createOptions'] = cameraCreateOptions(createOptions, index, device, new Set(ports));
  return module;
}

/** Exposed and published ports moved with the module's own; the camera device and the inspector's host port too. */
function cameraCreateOptions(createOptions: JsonObject, index: number, device: string, modulePorts: Set<number>): JsonObject {
  const shift = (port: number) => port + index * CAMERA_PORT_STEP;
  const containerPort = (key: string) => {
    const [port, protocol] = key.split('/');
    return modulePorts.has(Number(port)) ? `${shift(Number(port))}/${protocol}` : key;
  };
  const exposed = createOptions['ExposedPorts'];
  const result: JsonObject = { ...createOptions };
  if (isJsonObject(exposed)) result['ExposedPorts'] = Object.fromEntries(Object.entries(exposed).map(([key, value]) => [containerPort(key), value]));

  const hostConfig = createOptions['HostConfig'];
  if (isJsonObject(hostConfig)) {
    const host: JsonObject = { ...hostConfig };
    const devices = hostConfig['Devices'];
    if (Array.isArray(devices)) {
      host['Devices'] = devices.map((mapping) =>
        isJsonObject(mapping)
          ? Object.fromEntries(Object.entries(mapping).map(([key, value]) => [key, typeof value === 'string' ? cameraDevice(value, device) : value]))
          : mapping,
      );
    }
    const bindings = hostConfig['PortBindings'];
    if (isJsonObject(bindings)) {
      // Every published host port moves: one host, one listener per port.
      host['PortBindings'] = Object.fromEntries(
        Object.entries(bindings).map(([key, value]) => [
          containerPort(key),
          Array.isArray(value) ? value.map((binding) => (isJsonObject(binding) && typeof binding['HostPort'] === 'string' ? { ...binding, HostPort: String(shift(Number(binding['HostPort']))) } : binding)) : value,
        ]),
      );
    }
    result['HostConfig'] = host;
  }
  return result;
}

/** Capture's twin for a camera: a `source` naming the template's camera names this camera's device instead. */
function cameraTwin(twin: JsonObject, device: string): JsonObject {
  const desired = twin['properties.desired'];
  if (!isJsonObject(desired)) return structuredClone(twin);
  const source = desired['source'];
  return { ...structuredClone(twin), 'properties.desired': { ...desired, ...(typeof source === 'string' && { source: cameraDevice(source, device) }) } };
}

/** The template's camera device becomes this camera's; a file, stream or pipeline stays for the user to change. */
function cameraDevice(path: string, device: string): string {
  return CAMERA_DEVICE.test(path) ? device : path;
}

function portOf(endpoint: string | undefined, what: string): number {
  const port = endpointPort(endpoint);
  if (port === undefined) throw new Error(`--cameras: ${what} (${endpoint ?? 'unset'}) names no TCP port to number the cameras' from.`);
  return port;
}
