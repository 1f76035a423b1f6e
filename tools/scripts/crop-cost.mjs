// What CAPTURE_CROP saves: the built capture and inference modules on the demo video (capture decoding as fast as
// inference takes frames, CAPTURE_REALTIME=false, as the bench runs them), without a crop and with one, in
// alternating rounds: inference's fps, and capture's CPU (its process and its ffmpeg) per frame decoded.
//   npx nx run-many -t build -p capture inference, then:
//   node tools/scripts/crop-cost.mjs [crop=160,120,320,240] [seconds=20] [rounds=2] [first port=17200]
// Extra variables (DETECTION_PRESET, CAPTURE_PIXEL_FORMAT, ...) are passed to both modules.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const [crop = '160,120,320,240', seconds = '20', rounds = '2', firstPort = '17200'] = process.argv.slice(2);
const port = Number(firstPort);
const TICK_MS = 1000 / 100; // USER_HZ

/** utime + stime of a process and of its children's (ffmpeg under capture), in ms. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean));
    return own + children.map(Number).reduce((sum, child) => sum + cpuMs(child), 0);
  } catch {
    return 0; // exited meanwhile
  }
}

async function counter(metricsPort, name) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, [, value]) => sum + Number(value), 0);
}

function start(name, env) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps', name, 'main.js')], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function round(cropSetting) {
  const frames = `tcp://127.0.0.1:${port + 10}`;
  const capture = start('capture', { CAMERA_PATH: 'assets/demo/demo.mp4', CAPTURE_REALTIME: 'false', CAPTURE_CROP: cropSetting, FRAMES_BIND: frames, METRICS_PORT: String(port + 1) });
  const inference = start('inference', { FRAMES_CONNECT: frames, DETECTIONS_BIND: `tcp://127.0.0.1:${port + 11}`, METRICS_PORT: String(port + 2), DETECTION_PRESET: process.env.DETECTION_PRESET ?? 'default' });
  try {
    for (let waited = 0; (await counter(port + 2, 'iev_inference_frames_processed_total').catch(() => 0)) < 20; waited += 500) {
      if (waited > 120_000) throw new Error('inference processed no frames in 2 minutes');
      await sleep(500);
    }
    await sleep(5000); // warm-up
    const before = { decoded: await counter(port + 1, 'iev_capture_frames_decoded_total'), processed: await counter(port + 2, 'iev_inference_frames_processed_total'), cpu: cpuMs(capture.pid), inferenceCpu: cpuMs(inference.pid), at: performance.now() };
    await sleep(Number(seconds) * 1000);
    const after = { decoded: await counter(port + 1, 'iev_capture_frames_decoded_total'), processed: await counter(port + 2, 'iev_inference_frames_processed_total'), cpu: cpuMs(capture.pid), inferenceCpu: cpuMs(inference.pid), at: performance.now() };
    const wallS = (after.at - before.at) / 1000;
    const decoded = after.decoded - before.decoded;
    const processed = after.processed - before.processed;
    return {
      crop: cropSetting || '(none)',
      inferenceFps: +(processed / wallS).toFixed(1),
      captureCpuMsPerFrame: +((after.cpu - before.cpu) / decoded).toFixed(2),
      inferenceCpuMsPerFrame: +((after.inferenceCpu - before.inferenceCpu) / processed).toFixed(1),
      framesDecoded: decoded,
    };
  } finally {
    for (const child of [capture, inference]) child.kill('SIGINT');
    await Promise.all([capture, inference].map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))));
  }
}

const results = [];
for (let k = 0; k < Number(rounds); k++) for (const setting of ['', crop]) results.push(await round(setting));
console.table(results);
