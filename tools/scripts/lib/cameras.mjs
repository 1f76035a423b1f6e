// The sources `npm start` runs, one capture process each (the IoT Edge way: one capture module per camera), and
// the frames endpoints inference takes them from; or, with --in-process, decoded by inference itself.
import { isIPv6 } from 'node:net';

/** As genconfig's (tools/nx-plugin/src/lib/camera-modules.ts): camera k listens on camera0's ports plus k × 10. */
export const CAMERA_PORT_STEP = 10;
export const MAX_CAMERAS = 10;
const FRAMES_PORT = 5555;
/** Inference's DETECTIONS_BIND port, where telemetry and the preview connect by default (on 127.0.0.1). */
const DETECTIONS_PORT = 5556;
const LOOPBACK = '127.0.0.1';
const METRICS_PORT = 9101;

/** Each module's METRICS_PORT after capture's, as their own defaults are (camera k's capture: capture's + k × 10). */
const METRICS_PORT_AFTER_CAPTURE = { inference: 1, telemetry: 2, preview: 3 };
/** Variables `npm start` sets per camera with several cameras (a value each), so one set in front, the same for all, cannot stand. */
const PER_CAMERA_VARIABLES = ['SOURCE_ID', 'FRAMES_CONNECT', 'PREVIEW_SOURCES', 'HEALTH_URLS'];
/** And with --in-process: inference's sources, and where it offers their frames to the preview. */
const IN_PROCESS_VARIABLES = ['CAPTURE_SOURCES', 'FRAMES_CONNECT', 'PREVIEW_SOURCES', 'HEALTH_URLS'];
const IN_PROCESS = '--in-process';
/** Capture's default CAMERA_PATH, which a CAPTURE_SOURCES entry must name (it has no default there). */
const DEMO_VIDEO = 'assets/demo/demo.mp4';

export const START_USAGE = `usage: npm start [-- [--in-process] [--camera <source> [--camera <source> ...]]]
  --camera <source>   a source for one capture (CAMERA_PATH's forms: file, /dev/videoN, GStreamer pipeline, URL,
                      testsrc); repeat it for each camera: camera0, camera1, ...
  CAMERAS=N           the demo video (or CAMERA_PATH) as N sources instead, N from 1 to ${MAX_CAMERAS}
  ${IN_PROCESS}        inference decodes the cameras itself (CAPTURE_SOURCES): no capture process, less CPU a frame
  -h, --help          this text
Any module variable (README, Configuration) can be set in front (CAMERA_PATH=my.mp4 npm start) or in .env, except
those npm start sets for each module itself:
  with several cameras ${PER_CAMERA_VARIABLES.join(', ')}
  with ${IN_PROCESS} ${IN_PROCESS_VARIABLES.join(', ')}, and SOURCE_ID with several cameras
METRICS_PORT=N      the modules' metrics and health ports numbered from N (default ${METRICS_PORT}): capture N, inference N+1,
                    telemetry N+2, preview N+3, camera k's capture N + 10 × k
FRAMES_BIND, DETECTIONS_BIND   where capture offers its frames and inference its detections: the modules that
                    connect to them follow (every address over 127.0.0.1), unless FRAMES_CONNECT / DETECTIONS_CONNECT
                    are set too
FRAMES_BIND=tcp://host:N   with several cameras or ${IN_PROCESS}: camera0's frames there (default LISTEN_HOST and ${FRAMES_PORT}),
                    camera k's at port N + 10 × k`;

export class StartUsageError extends Error {}

/** Whether the command line asks for START_USAGE: `--help` or `-h` (not as a --camera's source). */
export function asksForHelp(argv) {
  return argv.some((arg, index) => (arg === '--help' || arg === '-h') && argv[index - 1] !== '--camera');
}

/**
 * Everything `npm start` runs for this command line and environment: the capture processes (none with --in-process),
 * and what inference and the preview are given on top of the environment to take their frames.
 */
export function startPlan(argv, env) {
  // The flag, unless it is a --camera's source.
  const isFlag = (arg, index) => arg === IN_PROCESS && argv[index - 1] !== '--camera';
  const inProcess = argv.some(isFlag);
  const cameras = parseCameras(
    argv.filter((arg, index) => !isFlag(arg, index)),
    env,
  );
  const plan = inProcess ? inProcessPlan(cameras, env) : capturesPlan(cameras, env);
  refuseClashingPorts(listeners(plan, env, cameras.length));
  return plan;
}

/** The plan with a capture process per camera. */
function capturesPlan(cameras, env) {
  const { captures, framesConnect } = captureProcesses(cameras, env);
  const ports = metricsPorts(env, cameras.length);
  const captureNames = captures.map(({ name }) => name);
  // With several cameras, the preview takes frames from each capture and shows each one's health; with one, inference
  // and the preview take capture's frames where a FRAMES_BIND or LISTEN_HOST set in front puts them, and the preview's
  // health panel follows a METRICS_PORT or LISTEN_HOST, unless the user set them.
  const oneCameraFrames = framesConnect ? {} : connectToBind(env, 'FRAMES', FRAMES_PORT);
  const panel = framesConnect
    ? previewEnv(captures, framesConnect, captureNames, env, ports)
    : { ...oneCameraFrames, ...((env.METRICS_PORT !== undefined || reachableHost(env) !== LOOPBACK) && env.HEALTH_URLS === undefined && { HEALTH_URLS: healthUrls(captureNames, env, ports) }) };
  const detections = connectToBind(env, 'DETECTIONS', DETECTIONS_PORT);
  return {
    captures,
    inferenceEnv: { ...(framesConnect ? { FRAMES_CONNECT: framesConnect } : oneCameraFrames), ...metricsPortEnv(env, ports, 'inference') },
    telemetryEnv: { ...detections, ...metricsPortEnv(env, ports, 'telemetry') },
    previewEnv: { ...panel, ...detections, ...metricsPortEnv(env, ports, 'preview') },
  };
}

/** Every address a module of `plan` listens on ({ what, host, port }), tcp only; the modules' defaults where the plan and env set none. */
function listeners(plan, env, cameraCount) {
  const ports = metricsPorts(env, plan.captures.length > 0 ? cameraCount : 1);
  const metrics = (module, port) => ({ what: `${module}'s METRICS_PORT`, host: listenHost(env), port });
  const bound = (what, endpoint) => {
    const address = tcpAddress(endpoint);
    return address ? [{ what, ...address }] : [];
  };
  const onListenHost = (port) => `tcp://${inAddress(listenHost(env))}:${port}`;
  const previewPort = Number(env.PREVIEW_PORT ?? 8080);
  return [
    ...plan.captures.flatMap(({ name, env: own }, index) => [
      ...bound(`${name}'s FRAMES_BIND`, own.FRAMES_BIND ?? env.FRAMES_BIND ?? onListenHost(FRAMES_PORT)),
      metrics(name, ports.capture(index)),
    ]),
    ...(plan.inferenceEnv.FRAMES_BIND === undefined ? [] : bound("inference's FRAMES_BIND", plan.inferenceEnv.FRAMES_BIND)),
    metrics('inference', ports.inference),
    ...bound("inference's DETECTIONS_BIND", env.DETECTIONS_BIND ?? onListenHost(DETECTIONS_PORT)),
    metrics('telemetry', ports.telemetry),
    // Port 0 picks a free one; one that is no port the preview refuses itself.
    ...(Number.isInteger(previewPort) && previewPort > 0 ? [{ what: "the preview's PREVIEW_PORT", host: env.PREVIEW_HOST?.trim() || listenHost(env), port: previewPort }] : []),
    metrics('the preview', ports.preview),
  ];
}

const EVERY_ADDRESS = new Set(['0.0.0.0', '::', '*', '']);

/**
 * Throws a StartUsageError naming two of `listeners` on one port of one host (or of every address): the second
 * module would stop on "already in use" at start-up, which reads as another npm start's doing. METRICS_PORT's and
 * FRAMES_BIND's numbering, PREVIEW_PORT and DETECTIONS_BIND can land on one another.
 */
function refuseClashingPorts(listeners) {
  listeners.forEach((a, index) => {
    const b = listeners.slice(index + 1).find((other) => other.port === a.port && (other.host === a.host || EVERY_ADDRESS.has(a.host) || EVERY_ADDRESS.has(other.host)));
    if (b) throw new StartUsageError(`${a.what} and ${b.what} would both be port ${a.port}: move one (npm start -- --help)`);
  });
}

/**
 * `<link>_CONNECT` for the modules that connect to `<link>_BIND` (inference, telemetry, the preview), where their
 * default (tcp://127.0.0.1:<port>) misses what listens there: a `<link>_BIND` set in front (FRAMES_BIND=tcp://127.0.0.1:17155
 * moves the link, and the consumers with it), else LISTEN_HOST's default bind (LISTEN_HOST=::1, a LAN address).
 * Nothing where the user set `<link>_CONNECT`, which stands, or where the default reaches it.
 */
function connectToBind(env, link, port) {
  if (env[`${link}_CONNECT`] !== undefined) return {};
  const bind = env[`${link}_BIND`];
  const connect = bind === undefined ? `tcp://${reachableHost(env)}:${port}` : connectEndpoint(bind);
  return connect === undefined || connect === `tcp://${LOOPBACK}:${port}` ? {} : { [`${link}_CONNECT`]: connect };
}

/**
 * Where the other modules on this host connect to a bind endpoint: tcp's port on its host (every address over
 * 127.0.0.1), ipc:// as is; undefined for what is no endpoint, which the binding module refuses by its name.
 */
function connectEndpoint(bind) {
  const trimmed = bind.trim();
  if (/^ipc:\/\/\S+$/.test(trimmed)) return trimmed;
  const address = tcpAddress(trimmed);
  return address && `tcp://${reachable(address.host)}:${address.port}`;
}

/**
 * The cameras from the command line and the environment: each `--camera` a source of its own (a flag per source, not
 * a comma list: GStreamer pipelines and URLs hold commas), else `CAMERAS` copies of CAMERA_PATH (unset: capture's
 * default, the demo video). Returns [{ sourceId, cameraPath }], cameraPath undefined for capture's default.
 */
export function parseCameras(argv, env) {
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--camera' || arg.startsWith('--camera=')) {
      const path = arg === '--camera' ? argv[++i] : arg.slice('--camera='.length);
      if (path === undefined || path.trim() === '') throw new StartUsageError('--camera needs a source after it');
      paths.push(path);
    } else {
      throw new StartUsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (paths.length > 0 && env.CAMERAS !== undefined) throw new StartUsageError('CAMERAS and --camera both name the cameras: use one');
  if (paths.length > MAX_CAMERAS) throw new StartUsageError(`at most ${MAX_CAMERAS} cameras, got ${paths.length}`);
  const count = paths.length || cameraCount(env.CAMERAS);
  return Array.from({ length: count }, (_, index) => ({ sourceId: `camera${index}`, cameraPath: paths[index] ?? env.CAMERA_PATH }));
}

function cameraCount(value) {
  if (value === undefined) return 1;
  const count = Number(value);
  if (value.trim() === '' || !Number.isInteger(count) || count < 1 || count > MAX_CAMERAS) {
    throw new StartUsageError(`CAMERAS must be a whole number from 1 to ${MAX_CAMERAS}, got ${JSON.stringify(value)}`);
  }
  return count;
}

/** Throws a StartUsageError naming those of `names` set in `env`: the same for all modules, they would collide. */
function refuseSetPerModule(names, env) {
  const set = names.filter((name) => env[name] !== undefined);
  if (set.length === 0) return;
  const [these, them] = set.length === 1 ? [`${set[0]} is`, 'it'] : [`${set.join(', ')} are`, 'them'];
  throw new StartUsageError(`${these} set, but npm start gives each module its own: unset ${them} (in the shell or .env)`);
}

/** LISTEN_HOST as the modules read it (service-runtime's listenHost): trimmed, blank as unset. */
const listenHost = (env) => env.LISTEN_HOST?.trim() || LOOPBACK;
/** A host as it stands in a tcp:// endpoint or an http:// URL: an IPv6 address in brackets. */
const inAddress = (host) => (isIPv6(host) ? `[${host}]` : host);
/**
 * Where the other modules on this host reach what listens on `host`: every address (IPv6's `::` too) on 127.0.0.1.
 * A listen on :: takes IPv4 as well (unless net.ipv6.bindv6only=1, rare), and ::1 does not answer where IPv6 is
 * switched off (Docker's containers, dev containers, by default); LISTEN_HOST=::1 is there for IPv6 alone.
 */
const reachable = (host) => inAddress(EVERY_ADDRESS.has(host) ? LOOPBACK : host);
/** Where the other modules on this host reach what listens on LISTEN_HOST. */
const reachableHost = (env) => reachable(listenHost(env));

/**
 * Each module's METRICS_PORT: capture's METRICS_PORT as set in front (so that the ports can be moved off ones taken),
 * else its default, and the others numbered from it as their defaults are.
 */
function metricsPorts(env, cameraCount = 1) {
  // The highest of them: the preview's (N + 3), or the last camera's capture (N + 10 × (cameras - 1)).
  const highest = 65535 - Math.max(METRICS_PORT_AFTER_CAPTURE.preview, (cameraCount - 1) * CAMERA_PORT_STEP);
  const raw = env.METRICS_PORT;
  const capture = raw === undefined ? METRICS_PORT : Number(raw);
  if (raw !== undefined && (raw.trim() === '' || !Number.isInteger(capture) || capture < 1 || capture > highest)) {
    throw new StartUsageError(
      `METRICS_PORT must be a whole number from 1 to ${highest}, got ${JSON.stringify(raw)}: npm start gives capture that port and the other modules the next ones (README, Commands)`,
    );
  }
  return {
    capture: (index) => capture + index * CAMERA_PORT_STEP,
    ...Object.fromEntries(Object.entries(METRICS_PORT_AFTER_CAPTURE).map(([module, after]) => [module, capture + after])),
  };
}

/** METRICS_PORT for `module` where it was set in front (npm start's numbering); nothing where each module keeps its default. */
const metricsPortEnv = (env, ports, module) => (env.METRICS_PORT === undefined ? {} : { METRICS_PORT: String(ports[module]) });

/** A FRAMES_BIND npm start can number cameras' ports from: tcp://host:port, an IPv6 host in brackets. */
const TCP_ENDPOINT = /^tcp:\/\/(\[[^\]]+\]|[^:[\]/]+):(\d+)$/;

/** A tcp:// endpoint's host (an IPv6 one out of its brackets) and port; undefined for any other. */
function tcpAddress(endpoint) {
  const match = TCP_ENDPOINT.exec(endpoint.trim());
  return match ? { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) } : undefined;
}

/**
 * Camera k's frames endpoint: where it is offered and where the others connect (on this host). Camera0's is
 * FRAMES_BIND as set in front (so that the ports can be moved off ones taken), else LISTEN_HOST's port 5555; camera k's
 * port k × 10 after it.
 */
function framesEndpoints(env, index, cameraCount) {
  const highest = 65535 - (cameraCount - 1) * CAMERA_PORT_STEP;
  let host = listenHost(env);
  let first = FRAMES_PORT;
  if (env.FRAMES_BIND !== undefined) {
    const address = tcpAddress(env.FRAMES_BIND);
    first = address?.port;
    if (!address || first < 1 || first > highest) {
      throw new StartUsageError(`FRAMES_BIND must be tcp://host:port with a port from 1 to ${highest}, got ${JSON.stringify(env.FRAMES_BIND)}: npm start offers camera0's frames there and camera k's at the port + 10 × k`);
    }
    host = address.host;
  }
  const port = first + index * CAMERA_PORT_STEP;
  return { bind: `tcp://${inAddress(host)}:${port}`, connect: `tcp://${reachable(host)}:${port}` };
}

/**
 * A capture process per camera ({ name, sourceId, cameraPath, env, framesBind, metricsPort }) and inference's
 * FRAMES_CONNECT. One camera is today's single capture: nothing of its own but the source, so FRAMES_BIND and
 * SOURCE_ID keep their defaults or what the user set (where inference connects: startPlan). Throws a StartUsageError
 * when a variable npm start sets per module is set already (the same for all, it would collide).
 */
export function captureProcesses(cameras, env) {
  refuseSetPerModule(cameras.length > 1 ? PER_CAMERA_VARIABLES : [], env);
  const ports = metricsPorts(env, cameras.length);
  if (cameras.length === 1) {
    const [{ cameraPath }] = cameras;
    const captureEnv = { ...(cameraPath !== undefined && { CAMERA_PATH: cameraPath }), ...(env.METRICS_PORT !== undefined && { METRICS_PORT: String(ports.capture(0)) }) };
    return { captures: [{ name: 'capture', sourceId: env.SOURCE_ID ?? 'camera0', cameraPath, env: captureEnv }], framesConnect: undefined };
  }
  const captures = cameras.map(({ sourceId, cameraPath }, index) => {
    const { bind, connect } = framesEndpoints(env, index, cameras.length);
    const metricsPort = ports.capture(index);
    return {
      name: index === 0 ? 'capture' : `capture${index}`,
      sourceId,
      cameraPath,
      framesBind: bind,
      framesConnect: connect,
      metricsPort,
      env: { SOURCE_ID: sourceId, FRAMES_BIND: bind, METRICS_PORT: String(metricsPort), ...(cameraPath !== undefined && { CAMERA_PATH: cameraPath }) },
    };
  });
  return { captures, framesConnect: captures.map(({ framesConnect }) => framesConnect).join(',') };
}

/**
 * --in-process: no capture process; inference decodes each camera (CAPTURE_SOURCES: its source id and source, the
 * demo video where none is named) and offers the frames on capture's frames port, where the preview takes them.
 */
function inProcessPlan(cameras, env) {
  refuseSetPerModule([...IN_PROCESS_VARIABLES, ...(cameras.length > 1 ? ['SOURCE_ID'] : [])], env);
  const ports = metricsPorts(env);
  const sources = cameras.map(({ sourceId, cameraPath = DEMO_VIDEO }) => ({ SOURCE_ID: cameras.length === 1 ? (env.SOURCE_ID ?? sourceId) : sourceId, CAMERA_PATH: cameraPath }));
  const { bind, connect } = framesEndpoints(env, 0, 1);
  const detections = connectToBind(env, 'DETECTIONS', DETECTIONS_PORT);
  return {
    captures: [],
    inferenceEnv: { CAPTURE_SOURCES: JSON.stringify(sources), FRAMES_BIND: bind, ...metricsPortEnv(env, ports, 'inference') },
    telemetryEnv: { ...detections, ...metricsPortEnv(env, ports, 'telemetry') },
    previewEnv: {
      ...detections,
      ...previewEnv(
        sources.map(({ SOURCE_ID }) => ({ sourceId: SOURCE_ID })),
        connect,
        [],
        env,
        ports,
      ),
      ...metricsPortEnv(env, ports, 'preview'),
    },
  };
}

/** The preview's health panel: each capture's (camera k's named captureNames[k]), inference's and telemetry's /health, where they listen. */
function healthUrls(captureNames, env, ports) {
  const healthUrl = (port) => `http://${reachableHost(env)}:${port}/health`;
  return [...captureNames.map((name, index) => `${name}=${healthUrl(ports.capture(index))}`), `inference=${healthUrl(ports.inference)}`, `telemetry=${healthUrl(ports.telemetry)}`].join(',');
}

/** The preview's frames endpoint and sources, and its health panel. */
function previewEnv(sources, framesConnect, captureNames, env, ports) {
  return { FRAMES_CONNECT: framesConnect, PREVIEW_SOURCES: sources.map(({ sourceId }) => sourceId).join(','), HEALTH_URLS: healthUrls(captureNames, env, ports) };
}
