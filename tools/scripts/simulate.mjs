// `npm run simulate -- [options]`: the deployment on this machine under the edge simulator (edgeHub and the
// workload API emulated, the modules as local processes); `--cameras N` generates and runs it with N cameras,
// `--in-process` the one where inference decodes them itself (genconfig --in-process).
// `npm run simulate -- twin|invoke|modules ...` talks to a running one. Builds what it runs first (cached by Nx); see
// docs/edge-simulator.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDotEnv } from './lib/dotenv.mjs';
import { buildProjects, nestedNxEnv, workspaceRoot } from './nx-build.mjs';

const args = process.argv.slice(2);
const cameras = takeOption('--cameras');
const inProcess = takeFlag('--in-process');
// .env's variables reach the modules the way the simulator's own environment does: over the manifest's.
const fromDotEnv = loadDotEnv(workspaceRoot);
if (fromDotEnv.length > 0) process.stderr.write(`.env: ${fromDotEnv.join(', ')}\n`);

/** Removes `--name value` (or `--name=value`) from args and returns the value. */
function takeOption(name) {
  const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const [taken, value = args[at + 1]] = args[at].split(/=(.*)/s);
  args.splice(at, taken === args[at] ? 2 : 1);
  return value;
}

/**
 * `--cameras N`: the release template generated for N cameras by genconfig itself (one capture module per camera,
 * inference connected to all; with --in-process, inference decoding them), for this machine's architecture, into the
 * state folder; its path.
 */
function camerasManifest(count) {
  if (args.includes('--manifest')) fail(`${cameras === undefined ? '--in-process' : '--cameras'} generates the manifest it runs: leave out --manifest`);
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? fail(`--cameras: no module images for ${process.arch}`);
  const stateDir = args.includes('--state-dir') ? resolve(args[args.indexOf('--state-dir') + 1] ?? '') : join(workspaceRoot, '.simulator');
  const outputPath = join(stateDir, 'deployment');
  const options = ['--cameras', String(count), ...(inProcess ? ['--in-process'] : [])];
  process.stderr.write(`generating the deployment for ${count} cameras (npx nx genconfig deployment ${options.join(' ')})...\n`);
  const result = spawnSync('npx', ['nx', 'genconfig', 'deployment', '--arch', arch, ...options, '--outputPath', outputPath, '--outputStyle=static'], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    env: nestedNxEnv(),
  });
  if (result.status !== 0) fail(`${result.stdout}${result.stderr}\ngenconfig ${options.join(' ')} failed`);
  const variant = [...(count === '1' ? [] : [`${count}cameras`]), ...(inProcess ? ['inprocess'] : []), arch].join('.');
  return join(outputPath, `deployment.${variant}.json`);
}

/** Removes `--name` from args and says whether it was there. */
function takeFlag(name) {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/**
 * The Nx apps the manifest's modules run, as the simulator itself names them (`--apps`), so they get built; none
 * for a command to a running simulator (the simulator tells it from an option's value), or when it cannot read the
 * manifest (it says why when it runs).
 */
function manifestApps() {
  const listed = spawnSync(process.execPath, [join(workspaceRoot, 'dist/apps/edge-simulator/main.js'), '--apps', ...args], { encoding: 'utf8' });
  if (listed.status !== 0) return [];
  return listed.stdout.split('\n').filter((name) => name && existsSync(join(workspaceRoot, 'apps', name, 'project.json')));
}

if (cameras !== undefined || inProcess) args.push('--manifest', camerasManifest(cameras ?? '1'));

buildProjects(['edge-simulator']);
const modules = args.includes('--no-modules') || args.includes('--help') || args.includes('-h') ? [] : manifestApps();
if (modules.length > 0) {
  process.stderr.write(`building ${modules.join(', ')} (cached after the first run)...\n`);
  buildProjects(modules);
}

const child = spawn(process.execPath, ['--enable-source-maps', join(workspaceRoot, 'dist/apps/edge-simulator/main.js'), ...args], { stdio: 'inherit' });
// A terminal's Ctrl-C reaches the simulator directly (same process group); forwarding it as well is harmless, it
// stops once. SIGTERM (from a process manager, say) reaches only this script, so it must be forwarded.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
