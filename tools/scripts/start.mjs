// `npm start`: the whole pipeline on this machine — capture → inference → telemetry, and the live preview page, as
// four processes on the bundled demo video, their logs merged into one readable console. Ctrl-C stops all cleanly.
// Env set here or in .env (CAMERA_PATH, DETECTION_PRESET, ...) reaches the modules; LOG_FORMAT=json keeps raw JSON logs.
import { join } from 'node:path';
import { loadDotEnv } from './lib/dotenv.mjs';
import { createPrinter, runProcessGroup } from './lib/process-group.mjs';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

const MODULES = ['capture', 'inference', 'telemetry', 'preview'];

const fromDotEnv = loadDotEnv(workspaceRoot);
if (fromDotEnv.length > 0) process.stderr.write(`.env: ${fromDotEnv.join(', ')}\n`);
// The demo reads the text it finds; DETECTION_PRESET=seed runs the original sample's detection only.
process.env.DETECTION_PRESET ??= 'default';

process.stderr.write(`building ${MODULES.join(', ')} (cached after the first run)...\n`);
buildProjects(MODULES);

const group = runProcessGroup(
  MODULES.map((name) => ({
    name,
    args: ['--enable-source-maps', join(workspaceRoot, 'dist/apps', name, 'main.js')],
    cwd: workspaceRoot,
    // Inference sums its frames up in one line at this interval (telemetry prints every frame anyway).
    env: { LOG_SUMMARY_INTERVAL: '10', ...process.env },
  })),
  { print: createPrinter(MODULES) },
);
// SIGHUP: a closed terminal, which the modules (own sessions) would not see.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => group.stop(signal));
group.done.then((code) => process.exit(code));
// The preview logs its address when it listens; say it once more where a person looks for it.
process.stderr.write(`preview: http://${process.env.PREVIEW_HOST || process.env.LISTEN_HOST || '127.0.0.1'}:${process.env.PREVIEW_PORT || 8080}/\n`);
