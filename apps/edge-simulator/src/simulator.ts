import { createWriteStream, existsSync, mkdirSync, openSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EdgeHubEmulator, readDeploymentManifest, type DeploymentManifest } from '@iev/edge-hub-emulator';
import pino from 'pino';
// Shared with `npm start` (tools/scripts/start.mjs), a plain Node script, so it lives with it rather than in a lib;
// it is in this project's build inputs.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createPrinter, runProcessGroup, type Printer, type ProcessSpec } from '../../../tools/scripts/lib/process-group.mjs';
import { COMMANDS_USAGE, executeCommand, parseCommandLine } from './commands';
import { startControlServer } from './control';
import { SimulatorError } from './errors';
import { imageProject, localizeModule } from './local-env';
import { formatUpstream, upstreamRecord } from './upstream';

export interface SimulatorOptions {
  workspaceRoot: string;
  manifest: string;
  stateDir: string;
  appsDir: string;
  out?: string;
  port: number;
  workloadPort: number;
  deviceId: string;
  methodTimeoutMs: number;
  runModules: boolean;
  logLevel: string;
}

/** Variables of the simulator's own environment a module must not inherit: they would override fromEnvironment. */
const INHERITED_CONNECTION = /^(IOTEDGE_.*|EdgeHubConnectionString|IotHubConnectionString|EdgeModuleCACertificateFile)$/;

function envFile(hub: EdgeHubEmulator, moduleId: string, caFile: string): string {
  const lines = Object.entries(hub.moduleEnv(moduleId)).map(([key, value]) => `${key}=${value}`);
  return [
    `# ${moduleId} under the edge simulator (key and generation id kept across runs with this state dir while the module stays deployed; ports as this run's --port and --workload-port).`,
    '# Either the IoT Edge env, as the simulator sets it for ModuleClient.fromEnvironment:',
    ...lines,
    '# or, instead of IOTEDGE_*, a connection string and the CA file:',
    `# EdgeHubConnectionString=${hub.connectionString(moduleId)}`,
    `# EdgeModuleCACertificateFile=${caFile}`,
    '',
  ].join('\n');
}

/** The --out file, opened before anything starts so that a path it cannot write to fails at once, clearly. */
function openOutFile(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (err) {
    throw new SimulatorError(`cannot open --out ${path}: ${(err as Error).message}`);
  }
  return createWriteStream(path, { fd });
}

/** Runs until SIGINT/SIGTERM or until a module exits on its own; resolves with the process exit code. */
export async function runSimulator(options: SimulatorOptions): Promise<number> {
  const manifest: DeploymentManifest = readDeploymentManifest(options.manifest);
  const moduleIds = manifest.modules.map((module) => module.id);
  const print: Printer = createPrinter(['simulator', 'edgeHub', 'upstream', ...moduleIds]);
  const say = (text: string) => text.split('\n').forEach((line) => print('simulator', line));

  const demoVideo = join(options.workspaceRoot, 'assets/demo/demo.mp4');
  const local = manifest.modules.map((module) => ({ module, ...localizeModule(module, moduleIds, { demoVideo, environment: process.env }) }));
  say(`${manifest.file}: modules ${moduleIds.join(', ') || '(none)'}; ${Object.keys(manifest.routes).length} route(s)`);
  for (const { substitutions } of local) {
    for (const s of substitutions) say(`${s.moduleId}: ${s.what}=${s.from} → ${s.to} (${s.why})`);
  }
  if (manifest.modules.some((module) => module.createOptions && JSON.stringify(module.createOptions) !== '{}')) {
    say('createOptions (ports, devices, volumes, runtime) are Docker settings: ignored, modules run as local processes (an inspector keeps its published port)');
  }

  const outPath = options.out === undefined ? undefined : resolve(options.out);
  mkdirSync(options.stateDir, { recursive: true });
  // After the state folder exists: `--out .simulator/upstream.jsonl` is a natural place for it.
  const out = outPath === undefined ? undefined : openOutFile(outPath);
  // The emulator's structured logs, shown like the modules' (LEVEL msg) under [edgeHub].
  const logger = pino(
    { name: 'edgeHub', level: options.logLevel, base: { module: 'edgeHub' }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => print('edgeHub', line.trimEnd()) },
  );
  let hub: EdgeHubEmulator;
  try {
    hub = await EdgeHubEmulator.start({
      deviceId: options.deviceId,
      port: options.port,
      workloadPort: options.workloadPort,
      stateDir: options.stateDir,
      modules: local.map(({ module, desired }) => ({ id: module.id, desired })),
      routes: manifest.routes,
      methodTimeoutMs: options.methodTimeoutMs,
      logger,
      // Printed and appended to --out as they come; kept, they would fill the memory of a run of hours.
      keepUpstream: 0,
    });
  } catch (err) {
    out?.destroy();
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') throw new SimulatorError(`port ${e.port} is in use (another simulator, or an IoT Edge runtime?): pick others with --port / --workload-port, 0 for free ones`);
    throw err;
  }
  say(`edgeHub on mqtts://${hub.gatewayHostName}, workload API on ${hub.workloadUri} (device ${hub.deviceId}, hub ${hub.iothubHostName})`);

  const caFile = join(options.stateDir, 'ca.pem');
  writeFileSync(caFile, hub.caPem);
  mkdirSync(join(options.stateDir, 'env'), { recursive: true });
  for (const id of moduleIds) writeFileSync(join(options.stateDir, 'env', `${id}.env`), envFile(hub, id, caFile), { mode: 0o600 });

  // Until the modules run, a reason to stop is kept, and acted on once they do.
  let earlyStop: string | undefined;
  let stop: (reason: string, signal?: NodeJS.Signals) => void = (reason) => void (earlyStop ??= reason);
  if (outPath) say(`upstream messages are appended to ${outPath} (one JSON object a line)`);
  let outFailed = false;
  out?.on('error', (err) => {
    outFailed = true;
    stop(`writing ${outPath} failed (${err.message})`);
  });
  hub.upstream.on('message', (message) => {
    print('upstream', formatUpstream(message));
    if (out?.writable) out.write(`${JSON.stringify(upstreamRecord(message))}\n`);
  });

  const control = await startControlServer(hub, options.stateDir, moduleIds);
  say(`while it runs: npm run simulate -- twin <module> ['<json patch>'] | invoke <module> <method> ['<json>'] | modules`);

  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !INHERITED_CONNECTION.test(key)));
  const specs: ProcessSpec[] = [];
  const bundle = (app: string) => join(options.appsDir, app, 'main.js');
  for (const { module, env } of local) {
    // The bundle of the project its image names (several captures run one image), else of the module's own name.
    const app = imageProject(module.image);
    const main = app !== undefined && existsSync(bundle(app)) ? bundle(app) : bundle(module.id);
    if (!options.runModules) continue;
    if (!existsSync(main)) {
      say(`${module.id}: no ${main}, not started (its env for running it yourself: ${join(options.stateDir, 'env', `${module.id}.env`)})`);
      continue;
    }
    specs.push({
      name: module.id,
      args: ['--enable-source-maps', main],
      cwd: options.workspaceRoot,
      env: { ...env, ...inherited, ...hub.moduleEnv(module.id) },
    });
  }
  if (!options.runModules) say(`modules not started (--no-modules): their env is in ${join(options.stateDir, 'env')}`);
  const group = runProcessGroup(specs, { print });

  let stdinCommands: ReturnType<typeof createInterface> | undefined;
  if (process.stdin.isTTY) {
    say(`or type a command here:\n${COMMANDS_USAGE}`);
    stdinCommands = createInterface({ input: process.stdin });
    stdinCommands.on('line', (line) => {
      if (line.trim() === '') return;
      Promise.resolve()
        .then(() => executeCommand(hub, parseCommandLine(line), moduleIds))
        .then(
          ({ result }) => say(JSON.stringify(result, null, 2)),
          (err: Error) => say(err.message),
        );
    });
  }

  const stopped = new Promise<number>((resolveStopped) => {
    let stopping = false;
    stop = (reason, signal = 'SIGTERM') => {
      if (stopping) return;
      stopping = true;
      say(`${reason}: stopping`);
      group.stop(signal);
      // With no modules to run, only this ends it; otherwise the group does, a module exiting included.
      if (specs.length === 0) resolveStopped(0);
    };
    // `on`, not `once`: Ctrl-C under npm arrives twice (terminal and npm), and a second, unhandled one would kill
    // the simulator before it stops its modules.
    // SIGHUP: a closed terminal. The modules run in their own sessions and would not see it.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal, signal));
    if (specs.length > 0) void group.done.then(resolveStopped);
    if (earlyStop) stop(earlyStop);
  });
  const code = await stopped;
  stdinCommands?.close();
  await control.close();
  await hub.stop();
  await new Promise<void>((resolveOut) => (out?.writable ? out.end(resolveOut) : resolveOut()));
  say('stopped');
  return outFailed ? 1 : code;
}
