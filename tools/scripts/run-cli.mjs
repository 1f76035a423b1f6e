// `npm run detect|bench|eval -- ...`: builds the CLI (cached by Nx) and runs it with the given arguments.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

const [command, ...args] = process.argv.slice(2);
// The bench drives the real module processes (telemetry for --upstream), so it needs their bundles too.
buildProjects(command === 'bench' ? ['cli', 'capture', 'inference', 'telemetry', 'preview'] : ['cli']);
// In the folder npm was called from (npm runs scripts in the root and names that folder INIT_CWD), so that relative
// paths (images, --annotate, --model, --video) are the caller's; the CLI finds models/ and assets/ from its own place.
const cwd = process.env.INIT_CWD ?? process.cwd();
const child = spawn(process.execPath, [join(workspaceRoot, 'dist/apps/cli/main.js'), command, ...args], { cwd, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
