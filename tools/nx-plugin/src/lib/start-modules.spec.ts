// What `npm start` gives each module process (tools/scripts/lib/start-modules.mjs's moduleProcesses on
// lib/cameras.mjs's startPlan, as start.mjs runs them, in a Node.js of their own): its command and environment; and
// what it tells a person about them as they run (runModules).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';

const SCRIPTS = join(WORKSPACE_ROOT, 'tools/scripts/lib');

interface ModuleProcess {
  name: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The module processes start.mjs would run for these arguments and this environment. */
function moduleProcesses(argv: string[], env: Record<string, string> = {}): ModuleProcess[] {
  const script = `
    import { startPlan } from ${JSON.stringify(join(SCRIPTS, 'cameras.mjs'))};
    import { moduleProcesses } from ${JSON.stringify(join(SCRIPTS, 'start-modules.mjs'))};
    const [argv, env, root] = JSON.parse(process.argv[1]);
    console.log(JSON.stringify(moduleProcesses(startPlan(argv, env), env, root)));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([argv, env, WORKSPACE_ROOT])], { encoding: 'utf8' }));
}

/** The variables npm start wires the modules together by. */
const WIRING = ['SOURCE_ID', 'CAMERA_PATH', 'CAPTURE_SOURCES', 'FRAMES_BIND', 'FRAMES_CONNECT', 'DETECTIONS_BIND', 'DETECTIONS_CONNECT', 'METRICS_PORT', 'PREVIEW_SOURCES', 'HEALTH_URLS'];

/** Each module's name and the wiring variables it is given (none it is not). */
function wiring(argv: string[], env: Record<string, string> = {}): Record<string, Record<string, string>> {
  return Object.fromEntries(
    moduleProcesses(argv, env).map(({ name, env: own }) => [name, Object.fromEntries(WIRING.filter((variable) => own[variable] !== undefined).map((variable) => [variable, own[variable]]))]),
  );
}

describe("npm start's module processes (tools/scripts/lib/start-modules.mjs)", () => {
  it("runs each built module with the caller's environment, inference's summary every 10 s and the deployment's NODE_OPTIONS after the caller's", () => {
    const processes = moduleProcesses([], { DETECTION_PRESET: 'default', NODE_OPTIONS: '--trace-warnings' });
    expect(processes.map(({ name, args, cwd }) => [name, args, cwd])).toEqual(
      ['capture', 'inference', 'telemetry', 'preview'].map((module) => [module, ['--enable-source-maps', join(WORKSPACE_ROOT, 'dist/apps', module, 'main.js')], WORKSPACE_ROOT]),
    );
    for (const { env } of processes) expect(env).toMatchObject({ DETECTION_PRESET: 'default', LOG_SUMMARY_INTERVAL: '10' });
    expect(processes.map(({ env }) => env['NODE_OPTIONS'])).toEqual(['--trace-warnings', '--trace-warnings', '--trace-warnings --max-semi-space-size=1', '--trace-warnings']);
    // The caller's interval stands.
    expect(moduleProcesses([], { LOG_SUMMARY_INTERVAL: '60' })[1].env['LOG_SUMMARY_INTERVAL']).toBe('60');
  });

  it('one camera: each module on its defaults, wired by nothing of npm start', () => {
    expect(wiring([])).toEqual({ capture: {}, inference: {}, telemetry: {}, preview: {} });
  });

  it('one camera with its ports moved: the consumers connect where capture and inference bind, every metrics port numbered', () => {
    const health = 'capture=http://127.0.0.1:17160/health,inference=http://127.0.0.1:17161/health,telemetry=http://127.0.0.1:17162/health';
    expect(wiring([], { FRAMES_BIND: 'tcp://127.0.0.1:17155', DETECTIONS_BIND: 'tcp://0.0.0.0:17156', METRICS_PORT: '17160' })).toEqual({
      capture: { FRAMES_BIND: 'tcp://127.0.0.1:17155', DETECTIONS_BIND: 'tcp://0.0.0.0:17156', METRICS_PORT: '17160' },
      inference: { FRAMES_BIND: 'tcp://127.0.0.1:17155', FRAMES_CONNECT: 'tcp://127.0.0.1:17155', DETECTIONS_BIND: 'tcp://0.0.0.0:17156', METRICS_PORT: '17161' },
      telemetry: { FRAMES_BIND: 'tcp://127.0.0.1:17155', DETECTIONS_BIND: 'tcp://0.0.0.0:17156', DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156', METRICS_PORT: '17162' },
      preview: {
        FRAMES_BIND: 'tcp://127.0.0.1:17155',
        FRAMES_CONNECT: 'tcp://127.0.0.1:17155',
        DETECTIONS_BIND: 'tcp://0.0.0.0:17156',
        DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156',
        METRICS_PORT: '17163',
        HEALTH_URLS: health,
      },
    });
  });

  it('CAMERAS=2: a capture process each on ports of its own, inference and the preview connected to both', () => {
    const frames = 'tcp://127.0.0.1:17155,tcp://127.0.0.1:17165';
    expect(wiring([], { CAMERAS: '2', FRAMES_BIND: 'tcp://127.0.0.1:17155', METRICS_PORT: '17170' })).toEqual({
      capture: { SOURCE_ID: 'camera0', FRAMES_BIND: 'tcp://127.0.0.1:17155', METRICS_PORT: '17170' },
      capture1: { SOURCE_ID: 'camera1', FRAMES_BIND: 'tcp://127.0.0.1:17165', METRICS_PORT: '17180' },
      inference: { FRAMES_BIND: 'tcp://127.0.0.1:17155', FRAMES_CONNECT: frames, METRICS_PORT: '17171' },
      telemetry: { FRAMES_BIND: 'tcp://127.0.0.1:17155', METRICS_PORT: '17172' },
      preview: {
        FRAMES_BIND: 'tcp://127.0.0.1:17155',
        FRAMES_CONNECT: frames,
        PREVIEW_SOURCES: 'camera0,camera1',
        METRICS_PORT: '17173',
        HEALTH_URLS: 'capture=http://127.0.0.1:17170/health,capture1=http://127.0.0.1:17180/health,inference=http://127.0.0.1:17171/health,telemetry=http://127.0.0.1:17172/health',
      },
    });
  });

  it('--in-process: no capture; inference decodes the cameras and offers their frames to the preview', () => {
    const sources = JSON.stringify([
      { SOURCE_ID: 'camera0', CAMERA_PATH: 'assets/demo/demo.mp4' },
      { SOURCE_ID: 'camera1', CAMERA_PATH: 'assets/demo/demo.mp4' },
    ]);
    expect(wiring(['--in-process'], { CAMERAS: '2', DETECTIONS_BIND: 'tcp://[::]:17156' })).toEqual({
      inference: { CAPTURE_SOURCES: sources, FRAMES_BIND: 'tcp://127.0.0.1:5555', DETECTIONS_BIND: 'tcp://[::]:17156' },
      telemetry: { DETECTIONS_BIND: 'tcp://[::]:17156', DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156' },
      preview: {
        DETECTIONS_BIND: 'tcp://[::]:17156',
        DETECTIONS_CONNECT: 'tcp://127.0.0.1:17156',
        FRAMES_CONNECT: 'tcp://127.0.0.1:5555',
        PREVIEW_SOURCES: 'camera0,camera1',
        HEALTH_URLS: 'inference=http://127.0.0.1:9102/health,telemetry=http://127.0.0.1:9103/health',
      },
    });
  });
});

/**
 * Runs these module processes ({ name, lines: pino JSON lines each logs, after afterMs, exitCode }) with runModules, as
 * start.mjs does, until all have started (then stopped) or one has failed; returns what it printed, its notes as `NOTE `.
 */
function runModules(modules: { name: string; lines: object[]; afterMs?: number; exitCode?: number }[]): string[] {
  const processes = modules.map(({ name, lines, afterMs = 0, exitCode }) => ({
    name,
    args: ['-e', `setTimeout(() => { ${lines.map((line) => `console.log(${JSON.stringify(JSON.stringify(line))});`).join('')} ${exitCode === undefined ? 'setInterval(() => {}, 1000);' : `process.exitCode = ${exitCode};`} }, ${afterMs});`],
  }));
  const script = `
    import { runModules } from ${JSON.stringify(join(SCRIPTS, 'start-modules.mjs'))};
    const group = runModules(JSON.parse(process.argv[1]), { note: (text) => process.stdout.write('NOTE ' + text), startUpWaitMs: 5000 });
    await Promise.race([group.started, group.done]);
    group.stop();
    await group.done;`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(processes)], { encoding: 'utf8', timeout: 20_000 }).trimEnd().split('\n');
}

describe("npm start's lines for a person (tools/scripts/lib/start-modules.mjs's runModules)", () => {
  it("says the preview's address, as the preview logged it, once every module has started", () => {
    const printed = runModules([
      { name: 'preview', lines: [{ level: 30, msg: 'preview on http://[::1]:17190/', address: 'http://[::1]:17190/' }, { level: 30, msg: 'preview started' }] },
      { name: 'capture', lines: [{ level: 30, msg: 'capture started' }], afterMs: 800 },
    ]);
    expect(printed).toEqual(['[preview] INFO preview on http://[::1]:17190/', '[preview] INFO preview started', '[capture] INFO capture started', 'NOTE preview: http://[::1]:17190/']);
  });

  it('says once, when a module finds its port taken, that another npm start probably runs and how to move the ports', () => {
    const taken = (variable: string) => ({ level: 60, msg: `inference start-up failed: ${variable}: tcp://127.0.0.1:5556 is already in use; another instance may be running (stop it), or set ${variable} to a free port` });
    const printed = runModules([{ name: 'inference', lines: [taken('DETECTIONS_BIND'), taken('METRICS_PORT')], exitCode: 1 }]);
    expect(printed.filter((line) => line.startsWith('NOTE '))).toEqual([
      'NOTE npm start: a port it gives a module is taken: another npm start is probably running: stop it first, or give this one other ports (npm start -- --help)',
    ]);
  });
});
