// `npm run simulate -- [options]`: the deployment on this machine under the edge simulator (edgeHub and the
// workload API emulated, the modules as local processes). `npm run simulate -- twin|invoke|modules ...` talks to a
// running one. Builds what it runs first (cached by Nx); see docs/edge-simulator.md.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDotEnv } from './lib/dotenv.mjs';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

const args = process.argv.slice(2);
// .env's variables reach the modules the way the simulator's own environment does: over the manifest's.
const fromDotEnv = loadDotEnv(workspaceRoot);
if (fromDotEnv.length > 0) process.stderr.write(`.env: ${fromDotEnv.join(', ')}\n`);
const CONTROL_COMMANDS = ['twin', 'invoke', 'modules'];

/** The manifest's modules that are Nx apps here, so they get built; a manifest that does not read is the simulator's to report. */
function manifestApps() {
  const at = args.indexOf('--manifest');
  const file = at >= 0 ? resolve(args[at + 1] ?? '') : join(workspaceRoot, 'deployment/deployment.template.json');
  try {
    const modules = JSON.parse(readFileSync(file, 'utf8')).modulesContent.$edgeAgent['properties.desired'].modules;
    return Object.keys(modules).filter((name) => existsSync(join(workspaceRoot, 'apps', name, 'project.json')));
  } catch {
    return [];
  }
}

const running = args.find((arg) => !arg.startsWith('-'));
const projects = CONTROL_COMMANDS.includes(running) || args.includes('--no-modules') || args.includes('--help') || args.includes('-h') ? ['edge-simulator'] : ['edge-simulator', ...manifestApps()];
if (projects.length > 1) process.stderr.write(`building ${projects.join(', ')} (cached after the first run)...\n`);
buildProjects(projects);

const child = spawn(process.execPath, ['--enable-source-maps', join(workspaceRoot, 'dist/apps/edge-simulator/main.js'), ...args], { stdio: 'inherit' });
// A terminal's Ctrl-C reaches the simulator directly (same process group); forwarding it as well is harmless, it
// stops once. SIGTERM (from a process manager, say) reaches only this script, so it must be forwarded.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
