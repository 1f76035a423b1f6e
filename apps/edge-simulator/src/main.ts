import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ManifestError, readDeploymentManifest, RouteError } from '@iev/edge-hub-emulator';
import { COMMANDS_USAGE, parseCommand } from './commands';
import { SimulatorError, UsageError } from './errors';
import { sendCommand } from './control';
import { moduleApps } from './local-env';
import { runSimulator } from './simulator';

const USAGE = `usage: npm run simulate -- [options]          run the deployment locally (Ctrl-C stops it)
  --manifest <file>       deployment manifest or template (default deployment/deployment.template.json)
  --cameras <n>           npm run simulate only: genconfig --cameras n's manifest for this machine, generated and run
  --in-process            npm run simulate only: genconfig --in-process's (inference decodes the cameras), alone or with --cameras
  --out <file.jsonl>      also append each upstream message to this file, one JSON object a line
  --port <n>              edgeHub's MQTT/TLS port (default 8883; 0 = a free one)
  --workload-port <n>     the workload API's port (default 15581; 0 = a free one)
  --state-dir <dir>       CA cache, module identities (kept across runs), env files, control endpoint (default .simulator)
  --apps-dir <dir>        where module bundles are: <dir>/<module>/main.js (default dist/apps)
  --no-modules            run edgeHub only; start modules yourself with <state-dir>/env/<module>.env
  --device-id <id>        (default sim-device)
  --method-timeout <s>    direct method timeout, 5 to 300 (default 30; IoT Hub's range and default)
  --verbose               edgeHub debug logs
  --apps                  print the projects whose bundles the manifest's modules may run, one a line, and exit
while it runs (same --state-dir):
${COMMANDS_USAGE.replace(/^/gm, '  npm run simulate -- ')}`;

function findWorkspaceRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'nx.json'))) return dir;
  return process.cwd();
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0 = a free one), got ${value}`);
  return n;
}

/** A direct method response timeout: IoT Hub accepts 5 to 300 s, so the simulator does too. */
function methodTimeout(value: string, flag: string): number {
  const n = Number(value);
  if (!(n >= 5 && n <= 300)) throw new UsageError(`${flag} must be 5 to 300 seconds (IoT Hub's range for a method response timeout), got ${value}`);
  return Math.round(n * 1000);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      manifest: { type: 'string' },
      out: { type: 'string' },
      port: { type: 'string', default: '8883' },
      'workload-port': { type: 'string', default: '15581' },
      'state-dir': { type: 'string' },
      'apps-dir': { type: 'string' },
      'no-modules': { type: 'boolean', default: false },
      'device-id': { type: 'string', default: 'sim-device' },
      'method-timeout': { type: 'string', default: '30' },
      timeout: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      apps: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = findWorkspaceRoot();
  const manifest = resolve(values.manifest ?? join(root, 'deployment/deployment.template.json'));
  if (values.apps) {
    // A command to a running simulator (a positional: twin, invoke, ...) starts no module, so none needs building.
    const apps = positionals.length > 0 ? [] : moduleApps(readDeploymentManifest(manifest).modules);
    process.stdout.write(apps.map((app) => `${app}\n`).join(''));
    return 0;
  }
  const stateDir = resolve(values['state-dir'] ?? join(root, '.simulator'));
  const [command = 'run'] = positionals;

  if (command !== 'run') {
    const parsed = parseCommand(positionals, values.timeout === undefined ? undefined : methodTimeout(values.timeout, '--timeout'));
    const { ok, result } = await sendCommand(stateDir, parsed);
    (ok ? process.stdout : process.stderr).write(`${JSON.stringify(result, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  return runSimulator({
    workspaceRoot: root,
    manifest,
    stateDir,
    appsDir: resolve(values['apps-dir'] ?? join(root, 'dist/apps')),
    out: values.out,
    port: port(values.port, '--port'),
    workloadPort: port(values['workload-port'], '--workload-port'),
    deviceId: values['device-id'],
    methodTimeoutMs: methodTimeout(values['method-timeout'], '--method-timeout'),
    runModules: !values['no-modules'],
    logLevel: values.verbose ? 'debug' : 'info',
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    // Problems a person fixes in the command line or the manifest: the message alone, no stack.
    // parseArgs's refusals (an unknown option, a missing value) are the command line's, as a UsageError is.
    const commandLine = err instanceof UsageError || ((err as { code?: string }).code ?? '').startsWith('ERR_PARSE_ARGS_');
    const known = commandLine || err instanceof SimulatorError || err instanceof ManifestError || err instanceof RouteError;
    process.stderr.write(`edge-simulator: ${known ? err.message : (err.stack ?? err.message)}\n`);
    if (commandLine && !err.message.includes('\n')) process.stderr.write(`\n${USAGE}\n`);
    process.exit(2);
  },
);
