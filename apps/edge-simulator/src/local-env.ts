import { existsSync } from 'node:fs';
import type { JsonObject, ManifestModule } from '@iev/edge-hub-emulator';

/** One change the simulator made to a module's manifest env or twin so it runs on this machine. */
export interface Substitution {
  moduleId: string;
  what: string;
  from: string;
  to: string;
  why: string;
}

const CAMERA_DEVICE = /^\/dev\/video\d+$/;
/** iotedgedev's image placeholder in a template; genconfig makes it `<registry>/<project>:<tag>`. */
const IMAGE_PLACEHOLDER = /^\$\{MODULES\.([A-Za-z0-9_-]+)\}$/;
/** A ZeroMQ bind on every interface, as inside a container. */
const ALL_INTERFACES = /^tcp:\/\/(\*|0\.0\.0\.0)(?=:\d)/;
const INSPECTOR = /--inspect(-brk|-wait)?=(?:[^\s:=]+:)?(\d+)/;

/** Inference's own cameras (genconfig --in-process): a JSON list whose entries name a camera each. */
const CAPTURE_SOURCES = 'CAPTURE_SOURCES';

/**
 * CAPTURE_SOURCES with each entry's missing camera device swapped for the demo video; a value that is not such a
 * list stays as it is, for inference to say what is wrong with it.
 */
function localizeSources(value: string, isMissingCamera: (path: string) => boolean, demoVideoFor: (what: string, path: string) => string): string {
  let entries: unknown;
  try {
    entries = JSON.parse(value);
  } catch {
    return value;
  }
  if (!Array.isArray(entries)) return value;
  const local = entries.map((entry: unknown, index) => {
    const cameraPath = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['CAMERA_PATH'] : undefined;
    return typeof cameraPath === 'string' && isMissingCamera(cameraPath) ? { ...(entry as object), CAMERA_PATH: demoVideoFor(`${CAPTURE_SOURCES}[${index}].CAMERA_PATH`, cameraPath) } : entry;
  });
  return JSON.stringify(local);
}

/** The host port Docker publishes a module's container port on (createOptions.HostConfig.PortBindings), if any. */
export function publishedPort(createOptions: unknown, containerPort: string): string | undefined {
  const bindings = (createOptions as { HostConfig?: { PortBindings?: Record<string, { HostPort?: string }[]> } } | undefined)?.HostConfig?.PortBindings;
  return bindings?.[`${containerPort}/tcp`]?.[0]?.HostPort;
}

/**
 * The project whose bundle a module runs: the one its image names (`${MODULES.capture}` in a template,
 * `localhost:5000/capture:1.0.0-amd64` in a manifest), so capture1, camera 1's copy of capture, runs capture's.
 * Undefined for an image that names none (a registry path without a name).
 */
export function imageProject(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const placeholder = IMAGE_PLACEHOLDER.exec(image);
  if (placeholder) return placeholder[1];
  const repository = image.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  return repository.split('/').pop() || undefined;
}

/** The projects whose bundles the modules may run, each one's image's before its own name (as the simulator picks). */
export function moduleApps(modules: readonly { id: string; image?: string }[]): string[] {
  return [...new Set(modules.flatMap((module) => [imageProject(module.image), module.id]))].filter((name): name is string => name !== undefined);
}

/**
 * A manifest's env for a local process. On IoT Edge, modules reach each other by module name on the Docker
 * network; here they are processes on one host, so `tcp://capture:5555` becomes `tcp://127.0.0.1:5555`, and a bind
 * on every interface (`tcp://*:5555`) one on 127.0.0.1, serving nothing to the LAN. A camera
 * device that does not exist here is replaced by the demo video. A Node.js inspector (the debug manifest's
 * `NODE_OPTIONS=--inspect=0.0.0.0:9229` in every module) listens on the host port the manifest publishes it on,
 * so each module keeps its own and a debugger attaches as to the device. A variable set in the simulator's own
 * environment wins over the manifest (and is not rewritten).
 */
export function localizeModule(
  module: ManifestModule,
  moduleIds: readonly string[],
  options: { demoVideo: string; environment: NodeJS.ProcessEnv; deviceExists?: (path: string) => boolean },
): { env: Record<string, string>; desired: JsonObject; substitutions: Substitution[] } {
  const deviceExists = options.deviceExists ?? existsSync;
  const substitutions: Substitution[] = [];
  const hosts = new RegExp(`(^|://|@)(${moduleIds.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?=:\\d|/|$)`, 'g');
  const isMissingCamera = (value: string): boolean => CAMERA_DEVICE.test(value) && !deviceExists(value);
  const demoVideoFor = (what: string, value: string): string => {
    substitutions.push({ moduleId: module.id, what, from: value, to: options.demoVideo, why: `no ${value} on this machine` });
    return options.demoVideo;
  };
  const localize = (what: string, value: string): string => {
    if (isMissingCamera(value)) return demoVideoFor(what, value);
    if (ALL_INTERFACES.test(value)) {
      const loopback = value.replace(ALL_INTERFACES, 'tcp://127.0.0.1');
      substitutions.push({ moduleId: module.id, what, from: value, to: loopback, why: 'a local process serves nothing to the LAN' });
      return loopback;
    }
    const inspector = INSPECTOR.exec(value);
    const inspectorPort = inspector && publishedPort(module.createOptions, inspector[2]);
    if (inspector && inspectorPort) {
      const local = value.replace(INSPECTOR, `--inspect${inspector[1] ?? ''}=127.0.0.1:${inspectorPort}`);
      substitutions.push({ moduleId: module.id, what, from: value, to: local, why: 'the inspector on the host port the manifest publishes it on' });
      return local;
    }
    const local = moduleIds.length > 0 ? value.replace(hosts, '$1127.0.0.1') : value;
    if (local !== value) substitutions.push({ moduleId: module.id, what, from: value, to: local, why: 'modules are local processes' });
    return local;
  };

  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(module.env)) {
    const own = options.environment[name];
    if (own !== undefined) {
      if (own !== value) substitutions.push({ moduleId: module.id, what: name, from: value, to: own, why: "set in the simulator's environment" });
      env[name] = own;
    } else {
      env[name] = name === CAPTURE_SOURCES ? localizeSources(value, isMissingCamera, demoVideoFor) : localize(name, value);
    }
  }
  // The twin can name the camera too (capture's `source`): the same substitution, or the module would try it.
  const desired = Object.fromEntries(
    Object.entries(module.desired).map(([key, value]) => [key, typeof value === 'string' ? localize(`desired.${key}`, value) : value]),
  );
  return { env, desired, substitutions };
}
