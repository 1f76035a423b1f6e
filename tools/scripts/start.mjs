// `npm start`: the whole pipeline on this machine — capture → inference → telemetry as three processes on the
// bundled demo video, their logs merged into one readable console. Ctrl-C stops all three cleanly.
// Env set here (CAMERA_PATH, DETECTION_PRESET, ...) reaches the modules; LOG_FORMAT=json keeps raw JSON logs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

const MODULES = ['capture', 'inference', 'telemetry'];
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const rawJson = process.env.LOG_FORMAT === 'json';

process.stderr.write(`building ${MODULES.join(', ')} (cached after the first run)...\n`);
buildProjects(MODULES);

const pad = Math.max(...MODULES.map((name) => name.length));
function show(name, line) {
  let text = line;
  if (!rawJson && line.startsWith('{')) {
    try {
      const log = JSON.parse(line);
      text = `${LEVELS[log.level] ?? log.level} ${log.msg}${log.err?.message && !log.msg.includes(log.err.message) ? `: ${log.err.message}` : ''}`;
    } catch {
      // Not a log object: show the line as it is.
    }
  }
  process.stdout.write(`[${name.padEnd(pad)}] ${text}\n`);
}

const children = new Map();
let stopping = false;

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill(signal);
}

for (const name of MODULES) {
  // Own process group: a terminal's Ctrl-C reaches only this launcher, which then signals each module once.
  const child = spawn(process.execPath, ['--enable-source-maps', join(workspaceRoot, 'dist/apps', name, 'main.js')], {
    cwd: workspaceRoot,
    env: process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => show(name, line));
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? `code ${code}`}): stopping the pipeline\n`);
      process.exitCode = code || 1;
      stopAll('SIGTERM');
    }
    if (children.size === 0) process.exit();
  });
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
// If this launcher dies some other way, take the modules with it.
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});
