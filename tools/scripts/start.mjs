// `npm start`: the whole pipeline on this machine — capture → inference → telemetry, and the live preview page, as
// four processes on the bundled demo video, their logs merged into one readable console. Ctrl-C stops all cleanly.
// Env set here or in .env (CAMERA_PATH, DETECTION_PRESET, ...) reaches the modules, but for the ones npm start sets per
// module (SOURCE_ID with several cameras, ...: see --help; METRICS_PORT numbers their ports); LOG_FORMAT=json keeps raw JSON logs.
// Several cameras: `CAMERAS=4 npm start` (the demo video four times) or `npm start -- --camera a.mp4 --camera rtsp://...`,
// one capture process each, all into one inference; `npm start -- --in-process` has inference decode them itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asksForHelp, START_USAGE, StartUsageError, startPlan } from './lib/cameras.mjs';
import { loadDotEnv } from './lib/dotenv.mjs';
import { createPrinter, previewAddress, runProcessGroup } from './lib/process-group.mjs';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

if (asksForHelp(process.argv.slice(2))) {
  process.stdout.write(`${START_USAGE}\n`);
  process.exit(0);
}

const fromDotEnv = loadDotEnv(workspaceRoot);
if (fromDotEnv.length > 0) process.stderr.write(`.env: ${fromDotEnv.join(', ')}\n`);
// The demo reads the text it finds; DETECTION_PRESET=seed runs the original sample's detection only.
process.env.DETECTION_PRESET ??= 'default';

let plan;
try {
  plan = startPlan(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof StartUsageError)) throw error;
  process.stderr.write(`npm start: ${error.message}\n${START_USAGE}\n`);
  process.exit(2);
}
const { captures, inferenceEnv, telemetryEnv, previewEnv } = plan;
if (captures.length > 1) {
  for (const { name, sourceId, cameraPath, framesBind, metricsPort } of captures) {
    process.stderr.write(`${sourceId}: ${cameraPath ?? 'the demo video'} → ${name}, frames on ${framesBind}, metrics and health on :${metricsPort}\n`);
  }
}
if (captures.length === 0) process.stderr.write(`inference decodes the cameras itself: CAPTURE_SOURCES=${inferenceEnv.CAPTURE_SOURCES}\n`);

const modules = [...(captures.length > 0 ? ['capture'] : []), 'inference', 'telemetry', 'preview'];
process.stderr.write(`building ${modules.join(', ')} (cached after the first run)...\n`);
buildProjects(modules);

const main = (module) => ['--enable-source-maps', join(workspaceRoot, 'dist/apps', module, 'main.js')];
// Inference sums its frames up in one line at this interval (telemetry prints every frame anyway).
const env = { LOG_SUMMARY_INTERVAL: '10', ...process.env };

const deployment = JSON.parse(readFileSync(join(workspaceRoot, 'deployment/deployment.template.json'), 'utf8'));
/** `env` with the module's NODE_OPTIONS in the release deployment after the caller's own: each runs as deployed (README, Soak). */
function deployedEnv(module) {
  const deployed = deployment.modulesContent.$edgeAgent['properties.desired'].modules[module]?.env?.NODE_OPTIONS?.value;
  return deployed ? { ...env, NODE_OPTIONS: [env.NODE_OPTIONS, deployed].filter(Boolean).join(' ') } : env;
}
const specs = [
  ...captures.map((capture) => ({ name: capture.name, args: main('capture'), cwd: workspaceRoot, env: { ...deployedEnv('capture'), ...capture.env } })),
  { name: 'inference', args: main('inference'), cwd: workspaceRoot, env: { ...deployedEnv('inference'), ...inferenceEnv } },
  { name: 'telemetry', args: main('telemetry'), cwd: workspaceRoot, env: { ...deployedEnv('telemetry'), ...telemetryEnv } },
  { name: 'preview', args: main('preview'), cwd: workspaceRoot, env: { ...deployedEnv('preview'), ...previewEnv } },
];
const printLine = createPrinter(specs.map(({ name }) => name));
let saidPortsTaken = false;
let previewUrl;
/** Each module's line; after a module's "already in use" (AddressInUseError), what to do under npm start, which refuses the variables it names. */
function print(name, line) {
  printLine(name, line);
  if (name === 'preview') previewUrl ??= previewAddress(line);
  if (saidPortsTaken || !line.includes('is already in use; another instance may be running')) return;
  saidPortsTaken = true;
  process.stderr.write('npm start: a port it gives a module is taken: another npm start is probably running: stop it first, or give this one other ports (npm start -- --help)\n');
}
const group = runProcessGroup(specs, { print });
// SIGHUP: a closed terminal, which the modules (own sessions) would not see.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => group.stop(signal));
group.done.then((code) => process.exit(code));
// The preview logs its address when it listens; once every module is up, say it once more where a person looks for it.
group.started.then(() => previewUrl && process.stderr.write(`preview: ${previewUrl}\n`));
