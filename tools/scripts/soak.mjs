// `npm run soak -- --minutes N`: the deployment under the edge simulator (emulated edgeHub, the built modules as
// processes, telemetry upstream one message per frame) for N minutes, sampling each module's resident memory and
// counters; then the RSS growth after the warm-up (median of a window after it against the last), frames, and upstream messages sent, received by edgeHub, lost.
// Exit code 1 when a module died, RSS grew more than 5 % after the warm-up, or a message was lost. Ctrl-C (or SIGTERM)
// stops early and reports what was measured, with no verdict and exit code 128 + signal (130); a second one exits at once.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { growthPercent, loggedErrors, metricValue, moduleProcesses, residentBytes } from './lib/process-stats.mjs';
import { buildProjects, workspaceRoot } from './nx-build.mjs';

// The preview runs as deployed (taking frames, encoding nothing with no one watching); its memory is watched too.
const MODULES = ['capture', 'inference', 'telemetry', 'preview'];
const MAX_GROWTH_PERCENT = 5;
// Ctrl-C under npm arrives twice within milliseconds (the terminal's and npm's forwarded copy): one interruption.
const SAME_INTERRUPTION_MS = 1000;

const USAGE = `usage: npm run soak -- [--minutes 60] [--preset seed|default] [--sample-seconds 30] [--warmup-minutes 5] [--json report.json]
  the deployment under the edge simulator for --minutes (README, Commands): each module's resident memory every
  --sample-seconds, frames and upstream messages; exits 1 when a module died, RSS grew over ${MAX_GROWTH_PERCENT} % after the warm-up
  (5 minutes, or half a shorter run) or a message was lost`;
let values;
try {
  ({ values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '60' },
      preset: { type: 'string' },
      'sample-seconds': { type: 'string', default: '30' },
      'warmup-minutes': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  // A mistyped flag: its name and the usage, not Node's stack trace.
  process.stderr.write(`soak: ${error.message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const number = (name, min) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min) {
    process.stderr.write(`soak: --${name} must be a number >= ${min} (got ${JSON.stringify(values[name])})\n`);
    process.exit(2);
  }
  return value;
};
// Checked here, not by inference minutes later: a typo would cost a build and the simulator's start first.
const PRESETS = ['seed', 'default'];
if (values.preset !== undefined && !PRESETS.includes(values.preset)) {
  process.stderr.write(`soak: --preset must be one of ${PRESETS.join(', ')} (got ${JSON.stringify(values.preset)})\n${USAGE}\n`);
  process.exit(2);
}
const minutes = number('minutes', 0.5);
const sampleSeconds = number('sample-seconds', 1);
// RSS grows while the heap and the model settle; growth counts from here. 5 minutes, or half a shorter run.
const warmupMinutes = values['warmup-minutes'] === undefined ? Math.min(5, minutes / 2) : number('warmup-minutes', 0);
// Growth compares the median RSS of the 5 minutes after the warm-up with that of the last 5 (a quarter of a shorter run).
const windowMinutes = Math.min(5, (minutes - warmupMinutes) / 4);

process.stderr.write(`building edge-simulator, ${MODULES.join(', ')} (cached after the first run)...\n`);
buildProjects(['edge-simulator', ...MODULES]);

const stateDir = mkdtempSync(join(tmpdir(), 'iev-soak-'));
const upstreamFile = join(stateDir, 'upstream.jsonl');
const simulatorLog = join(stateDir, 'simulator.log');
const simulatorMain = join(workspaceRoot, 'dist/apps/edge-simulator/main.js');
// The simulator's environment wins over the manifest's: free ports and private sockets, so the soak runs beside an
// `npm start`; JSON logs, so the metrics ports can be read from them; --preset as DETECTION_PRESET (the deployment's
// inference twin names no preset to override it).
const env = {
  ...process.env,
  LOG_FORMAT: 'json',
  METRICS_PORT: '0',
  PREVIEW_PORT: '0',
  FRAMES_BIND: `ipc://${join(stateDir, 'frames')}`,
  FRAMES_CONNECT: `ipc://${join(stateDir, 'frames')}`,
  DETECTIONS_BIND: `ipc://${join(stateDir, 'detections')}`,
  DETECTIONS_CONNECT: `ipc://${join(stateDir, 'detections')}`,
  ...(values.preset && { DETECTION_PRESET: values.preset }),
};
const logFd = openSync(simulatorLog, 'w');
const simulator = spawn(
  process.execPath,
  [simulatorMain, '--state-dir', stateDir, '--out', upstreamFile, '--port', '0', '--workload-port', '0'],
  { cwd: workspaceRoot, env, stdio: ['ignore', logFd, logFd] },
);
let simulatorExited = false;
simulator.on('exit', () => (simulatorExited = true));

// The first signal stops the simulator and wakes the loops below, which then report instead of taking the modules'
// exit for a failure; a later one (the user insisting) exits at once.
let interruption;
const interruptSleeps = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interruption) {
      if (Date.now() - interruption.atMs > SAME_INTERRUPTION_MS) process.exit(interruption.exitCode);
      return;
    }
    interruption = { signal, atMs: Date.now(), exitCode: 128 + constants.signals[signal] };
    process.stderr.write(`soak: ${signal}: stopping the simulator (again to exit at once)\n`);
    simulator.kill('SIGINT');
    interruptSleeps.abort();
  });
}
/** Sleeps `ms`, or until interrupted. */
const pause = (ms) =>
  sleep(ms, undefined, { signal: interruptSleeps.signal }).catch((error) => {
    if (error.name !== 'AbortError') throw error;
  });
/** Waits for the simulator to stop its modules (telemetry hands over what is queued, up to 5 s). */
async function stopSimulator() {
  simulator.kill('SIGINT');
  while (!simulatorExited) await sleep(200);
}

/** Each module's metrics port, from the `"metricsPort":N` its start-up log line carries. */
function metricsPorts() {
  const ports = {};
  for (const line of readFileSync(simulatorLog, 'utf8').split('\n')) {
    const match = /^\[(\w+)\s*\] .*"metricsPort":(\d+)/.exec(line);
    if (match) ports[match[1]] = Number(match[2]);
  }
  return ports;
}

async function scrape(port) {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  } catch {
    return '';
  }
}

function simulatorCommand(...args) {
  execFileSync(process.execPath, [simulatorMain, ...args, '--state-dir', stateDir], { cwd: workspaceRoot, stdio: 'ignore' });
}

const fail = (message) => {
  // Why, where a module said it (a bad variable, a missing file), without opening the log.
  const errors = loggedErrors(readFileSync(simulatorLog, 'utf8')).map((error) => `  ${error.replaceAll('\n', '\n  ')}\n`);
  process.stderr.write(`soak: ${message}\n${errors.join('')}  simulator log: ${simulatorLog}\n`);
  simulator.kill('SIGINT');
  process.exit(1);
};

// Up: every module serving metrics and connected to edgeHub; then one upstream message per frame.
const startedAt = Date.now();
let ports = {};
for (;;) {
  if (interruption) {
    await stopSimulator();
    process.stderr.write(`soak: interrupted (${interruption.signal}) during start-up: nothing measured\n  simulator log: ${simulatorLog}\n`);
    process.exit(interruption.exitCode);
  }
  ports = metricsPorts();
  if (MODULES.every((name) => ports[name])) {
    try {
      simulatorCommand('twin', 'telemetry', '{"aggregateFrames": 1, "aggregateIntervalMs": 0}');
      break;
    } catch {
      // The control endpoint or telemetry is not up yet.
    }
  }
  if (simulatorExited) fail('the simulator exited during start-up');
  if (Date.now() - startedAt > 120_000) fail('the modules did not come up within 2 minutes');
  await pause(1000);
}
const pids = moduleProcesses(simulator.pid);
process.stdout.write(`soak: ${minutes} min, a sample every ${sampleSeconds} s, growth counted after ${warmupMinutes} min (state: ${stateDir})\n`);

const megabytes = (bytes) => Math.round((bytes ?? 0) / 1e5) / 10;
const rssSeries = Object.fromEntries(MODULES.map((name) => [name, []]));
const samples = [];
const endAt = Date.now() + minutes * 60_000;
let died;
// Checked after every wait: once interrupted, the modules stopping is the simulator's doing, not a failure.
for (;;) {
  if (interruption) break;
  const atMs = Date.now() - startedAt;
  const now = moduleProcesses(simulator.pid);
  died = MODULES.find((name) => now[name] !== pids[name]);
  if (died || simulatorExited) break;
  const scraped = await Promise.all(MODULES.map((name) => scrape(ports[name])));
  if (interruption) break; // the scrape may have met modules already stopping: not a sample
  const [capture, inference, telemetry] = scraped;
  // Heap and external beside RSS tell a leak in JavaScript from native memory or a heap the GC has not shrunk yet.
  const fromMetrics = (name) => Object.fromEntries(MODULES.map((module, i) => [module, megabytes(metricValue(scraped[i], name))]));
  const sample = {
    atMs,
    rssMb: Object.fromEntries(MODULES.map((name) => [name, megabytes(residentBytes(pids[name]))])),
    heapUsedMb: fromMetrics('iev_nodejs_heap_size_used_bytes'),
    heapTotalMb: fromMetrics('iev_nodejs_heap_size_total_bytes'),
    externalMb: fromMetrics('iev_nodejs_external_memory_bytes'),
    framesPublished: metricValue(capture, 'iev_capture_frames_published_total') ?? 0,
    framesProcessed: metricValue(inference, 'iev_inference_frames_processed_total') ?? 0,
    upstreamSent: metricValue(telemetry, 'iev_telemetry_upstream_sent_total') ?? 0,
    upstreamDropped: metricValue(telemetry, 'iev_telemetry_upstream_dropped_total') ?? 0,
    upstreamQueued: metricValue(telemetry, 'iev_telemetry_upstream_queued') ?? 0,
  };
  samples.push(sample);
  for (const name of MODULES) rssSeries[name].push({ atMs, value: sample.rssMb[name] });
  process.stdout.write(
    `${(atMs / 60_000).toFixed(1).padStart(6)} min  RSS ${MODULES.map((name) => `${name} ${sample.rssMb[name]} MB`).join(', ')}` +
      `  | frames ${sample.framesPublished} published, ${sample.framesProcessed} processed` +
      `  | upstream ${sample.upstreamSent} sent, ${sample.upstreamDropped} dropped, ${sample.upstreamQueued} queued\n`,
  );
  if (Date.now() >= endAt) break;
  await pause(Math.min(sampleSeconds * 1000, Math.max(0, endAt - Date.now())));
}

// Stop as IoT Edge would, then count what edgeHub received.
await stopSimulator();
// Distinct message ids: a resend after a lost acknowledgement arrives twice, and must not make up for a lost message.
const received = new Set(
  readFileSync(upstreamFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
    .filter((record) => record.moduleId === 'telemetry')
    .map((record) => record.systemProperties['$.mid']),
).size;
const last = samples.at(-1) ?? { upstreamSent: 0, upstreamDropped: 0, framesPublished: 0, framesProcessed: 0 };
const growth = Object.fromEntries(MODULES.map((name) => [name, growthPercent(rssSeries[name], warmupMinutes * 60_000, windowMinutes * 60_000)]));
const lost = last.upstreamDropped + Math.max(0, last.upstreamSent - received);
const report = {
  minutes,
  warmupMinutes,
  windowMinutes,
  preset: values.preset ?? '(manifest)',
  died: died ?? null,
  interrupted: interruption?.signal ?? null,
  rssGrowthPercentAfterWarmup: growth,
  frames: { published: last.framesPublished, processed: last.framesProcessed },
  upstream: { sentAcknowledged: last.upstreamSent, receivedByEdgeHub: received, dropped: last.upstreamDropped, lost },
  samples,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);

const percent = (value) => (value === undefined ? 'n/a (too few samples)' : `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`);
process.stdout.write(
  `\nRSS after ${warmupMinutes} min warm-up (median of the first ${windowMinutes} min against the last ${windowMinutes}): ${MODULES.map((name) => `${name} ${percent(growth[name])}`).join(', ')}\n` +
    `frames: ${last.framesPublished} published, ${last.framesProcessed} processed\n` +
    `upstream: ${last.upstreamSent} sent (acknowledged), ${received} received by edgeHub, ${last.upstreamDropped} dropped, ${lost} lost\n`,
);
if (interruption) {
  process.stdout.write(`INTERRUPTED (${interruption.signal}) after ${samples.length} sample(s): no verdict (simulator log kept: ${simulatorLog})\n`);
  process.exit(interruption.exitCode);
}
const problems = [
  ...(died ? [`${died} exited or restarted`] : []),
  ...MODULES.filter((name) => (growth[name] ?? 0) > MAX_GROWTH_PERCENT).map((name) => `${name} RSS grew ${percent(growth[name])}`),
  ...(lost > 0 ? [`${lost} upstream message(s) lost`] : []),
];
if (problems.length > 0) {
  process.stdout.write(`FAIL: ${problems.join('; ')} (simulator log kept: ${simulatorLog})\n`);
  process.exit(1);
}
process.stdout.write('PASS\n');
rmSync(stateDir, { recursive: true, force: true });
