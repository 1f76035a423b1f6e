// `npm start`: the whole pipeline on this machine — capture → inference → telemetry, and the live preview page, as
// four processes on the bundled demo video, their logs merged into one readable console. Ctrl-C stops all cleanly.
// Env set here or in .env (CAMERA_PATH, DETECTION_PRESET, ...) reaches the modules, but for the ones npm start sets per
// module (SOURCE_ID with several cameras, ...: see --help; METRICS_PORT numbers their ports); LOG_FORMAT=json keeps raw JSON logs.
// Several cameras: `CAMERAS=4 npm start` (the demo video four times) or `npm start -- --camera a.mp4 --camera rtsp://...`,
// one capture process each, all into one inference; `npm start -- --in-process` has inference decode them itself.
import { asksForHelp, START_USAGE, StartUsageError, startPlan } from './lib/cameras.mjs';
import { loadDotEnv } from './lib/dotenv.mjs';
import { moduleProcesses, runModules } from './lib/start-modules.mjs';
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
const { captures, inferenceEnv } = plan;
if (captures.length > 1) {
  for (const { name, sourceId, cameraPath, framesBind, metricsPort } of captures) {
    process.stderr.write(`${sourceId}: ${cameraPath ?? 'the demo video'} → ${name}, frames on ${framesBind}, metrics and health on :${metricsPort}\n`);
  }
}
if (captures.length === 0) process.stderr.write(`inference decodes the cameras itself: CAPTURE_SOURCES=${inferenceEnv.CAPTURE_SOURCES}\n`);

const modules = [...(captures.length > 0 ? ['capture'] : []), 'inference', 'telemetry', 'preview'];
process.stderr.write(`building ${modules.join(', ')} (cached after the first run)...\n`);
buildProjects(modules);

const group = runModules(moduleProcesses(plan, process.env, workspaceRoot));
// SIGHUP: a closed terminal, which the modules (own sessions) would not see.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => group.stop(signal));
group.done.then((code) => process.exit(code));
