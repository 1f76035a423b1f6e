import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backendChoiceFor } from './commands/backend-choice';
import { BENCH_BACKENDS, benchBackends, type BenchBackend } from './commands/bench';
import { benchBatches, formatBatchBench, parseBatchSizes } from './commands/bench-batch';
import { formatBenchRows } from './commands/bench-format';
import { benchUpstream, formatUpstreamBench } from './commands/bench-upstream';
import { detect } from './commands/detect';
import { evaluate, formatEvaluation } from './commands/evaluate';
import { getPreset, PRESETS, readTextFrameSet } from '@iev/text-detection';
import { env, type EnvVar } from '@iev/service-runtime';
import { detectionModelPath, EVERY_CAMERA, IgnoredRegions, loadTextDetector, loadVideoTextReader, presetReads, regionListVariable, type VideoTextReader } from '@iev/detection-pipeline';
import { readTensorRtSettings, tensorRtConfigSpec } from '@iev/tensorrt-backend';
import { rootTensorRtPaths } from './tensorrt-paths';
import { makeAnnotateFolder } from './annotated-files';
import { unreadFlag } from './command-flags';

/** Named from the settings themselves, so the usage cannot leave one out (it once missed TENSORRT_WORKSPACE). */
const TENSORRT_VARIABLES = Object.values(tensorRtConfigSpec).flatMap(({ names }) => names);

const USAGE = `usage:
  detect [--preset seed|default] [--json] [--annotate DIR] [--ignore-regions JSON] <image or video files...>
         --ignore-regions '[[0.6, 0, 0.4, 0.05]]': boxes centred in these regions left out before reading, as inference's
                          IGNORE_REGIONS leaves out a camera's (fractions of the picture, or whole pixels); shaded in
                          the --annotate pictures (detect, eval), as the preview shades them
  eval   [--preset seed|default] [--json] [--annotate DIR] [--ignore-regions JSON] <dir with gt.json>   with texts in gt.json, also end-to-end text spotting
         --ignore-regions (detect, eval): eval leaves those boxes out before scoring, so the lines under them count as
                          missed: what the regions cost in recall on the set
         --annotate DIR: each image or frame written to DIR as JPEG with its boxes and text drawn (eval: ground truth
         and predictions in two colours, misses and false alarms dashed and labelled)
  bench  [--preset seed|default] [--json] [--seconds 20] [--video assets/demo/demo.mp4]
         [--backend onnxruntime|tensorrt]   default: both, TensorRT where it is available
         [--streams 0]   the inference module's INFERENCE_STREAMS (0 = auto); --threads is then per stream
         [--preview]   the preview module and a client on its MJPEG stream beside the pipeline, and the pipeline without them
                       (--seconds 60 unless given)
         [--cameras 1]   capture processes on the video (camera0, camera1, ...) into the one inference: per-source fps,
                         aggregate fps against the bare model in the same configuration, fairness
         [--in-process]  the cameras decoded by the inference module itself (CAPTURE_SOURCES), no capture processes
  bench  --upstream [--json]   telemetry's IoT Edge upstream: messages/s, and an edgeHub outage
  bench  --batch 1,2,4 [--json] [--seconds 6] [--streams 0]   detection on the CPU in batches of each size, ms per frame,
         at the default and seed presets (the video's frames, the inference module's streams and threads)
common: [--model (the preset's own in models/)] [--threads 0 (0 = one per core)] [--backend onnxruntime|tensorrt|auto (detect, eval)]
detect, eval: [--recognition on|off (default: on for --preset default)] [--min-text-score 0.5] [--rec-model models/ch_PP-OCRv4_rec_infer.onnx] [--rec-dict models/ppocr_keys_v1.txt]
              [--lookalikes auto|on|off (O/0 told apart by their neighbours; auto: only for models of the dictionary it was measured on)]
detect and eval without --backend choose as the inference module does: INFERENCE_BACKEND, else USE_TENSOR_RT=True.
TensorRT reads ${TENSORRT_VARIABLES.slice(0, -1).join(', ')} and ${TENSORRT_VARIABLES.at(-1)} from the environment.`;

/** A command line a person got wrong (an unknown flag, no file to work on): the error says where the flags are listed. */
class UsageError extends Error {}

function findWorkspaceRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'nx.json'))) return dir;
  return process.cwd();
}

/**
 * A flag's value read as the modules read their variables (decimal numbers, not blank, in range, choices in any
 * case), its error naming the flag: Number() alone reads '' as 0 and 0x10 as 16.
 */
function readFlag<T>(flag: string, variable: EnvVar<T>, raw: string): T {
  try {
    return variable.parse(raw);
  } catch (error) {
    throw new Error(`--${flag} ${(error as Error).message} (got ${JSON.stringify(raw)})`);
  }
}

/**
 * The file a flag names, there or refused naming the flag before any model loads: the detector's loader names the
 * module's variable (MODEL_PATH) and tells to set it, which the CLI does not read.
 */
function flagFile(flag: string, path: string | undefined): string | undefined {
  if (path !== undefined && !statSync(path, { throwIfNoEntry: false })?.isFile()) throw new Error(`--${flag}: no such file: ${resolve(path)}`);
  return path;
}

// Output piped into a reader that stops early (`| head`, `| jq 'first(...)'`) has all it asked for: detect stops at
// its next frame, quietly, not with an unhandled EPIPE and its stack. Not process.exit() here: leaving while ONNX
// Runtime runs a frame aborts the process.
const outputGone = new AbortController();
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  outputGone.abort();
});

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { values, positionals, tokens } = parseArgs({
    args: rest,
    allowPositionals: true,
    tokens: true,
    options: {
      preset: { type: 'string', default: 'seed' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      threads: { type: 'string', default: '0' },
      streams: { type: 'string', default: '0' },
      seconds: { type: 'string' },
      cameras: { type: 'string', default: '1' },
      video: { type: 'string' },
      upstream: { type: 'boolean', default: false },
      batch: { type: 'string' },
      preview: { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      backend: { type: 'string' },
      recognition: { type: 'string' },
      'min-text-score': { type: 'string', default: '0.5' },
      'rec-model': { type: 'string' },
      'rec-dict': { type: 'string' },
      lookalikes: { type: 'string', default: 'auto' },
      annotate: { type: 'string' },
      'ignore-regions': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const unread = unreadFlag(command, tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : [])));
  if (unread) throw new UsageError(unread);
  const root = findWorkspaceRoot();
  rootTensorRtPaths(root);
  // The inference module's ranges (INFERENCE_THREADS, INFERENCE_STREAMS, REC_MIN_SCORE).
  const threads = readFlag('threads', env.integer('--threads', { min: 0, max: 256 }), values.threads);
  const streams = readFlag('streams', env.integer('--streams', { min: 0, max: 16 }), values.streams);
  const preset = readFlag('preset', env.oneOf('--preset', Object.keys(PRESETS)), values.preset);
  if (values.annotate === '') throw new Error('--annotate needs a folder to write into');
  // Absolute: the bench hands it to module processes, which run in the workspace root.
  const model = flagFile('model', values.model);
  const recModel = flagFile('rec-model', values['rec-model']);
  const recDict = flagFile('rec-dict', values['rec-dict']);
  const modelPath = model === undefined ? detectionModelPath(getPreset(preset), undefined, join(root, 'models')) : resolve(model);
  const recognition = values.recognition === undefined ? undefined : readFlag('recognition', env.oneOf('--recognition', ['on', 'off'] as const), values.recognition);
  const lookalikes = readFlag('lookalikes', env.oneOf('--lookalikes', ['auto', 'on', 'off'] as const), values.lookalikes);
  const minTextScore = readFlag('min-text-score', env.number('--min-text-score', { min: 0, max: 1 }), values['min-text-score']);
  const backend = values.backend;
  // One list for every file, as IGNORE_REGIONS' `*` is for every camera.
  const ignoreRegions = values['ignore-regions'] === undefined ? undefined : readFlag('ignore-regions', regionListVariable('--ignore-regions'), values['ignore-regions']);
  const ignored = ignoreRegions && IgnoredRegions.fromText(JSON.stringify({ [EVERY_CAMERA]: ignoreRegions }));
  const log = { info: (line: string) => process.stderr.write(`${line}\n`), warn: (line: string) => process.stderr.write(`${line}\n`) };
  const detector = () =>
    loadTextDetector({ ...readTensorRtSettings(), ...backendChoiceFor(backend, process.env), preset, modelPath, modelVariable: '--model', threads, streams: 1, log });
  // Every image (and video frame) is read in full: no text is carried from one to the next.
  const reader = async (): Promise<VideoTextReader | undefined> =>
    presetReads(preset, recognition)
      ? loadVideoTextReader({
          ...readTensorRtSettings(),
          ...backendChoiceFor(backend, process.env),
          log,
          modelPath: recModel ?? join(root, 'models/ch_PP-OCRv4_rec_infer.onnx'),
          dictionaryPath: recDict ?? join(root, 'models/ppocr_keys_v1.txt'),
          fileSettings: { model: '--rec-model', dictionary: '--rec-dict' },
          lookalikes,
          threads,
          minScore: minTextScore,
          refreshMs: 0,
        })
      : undefined;

  switch (command) {
    case 'detect':
      if (positionals.length === 0) throw new UsageError('detect needs at least one image or video file');
      if (values.annotate !== undefined) makeAnnotateFolder(values.annotate);
      await detect(await detector(), await reader(), positionals, { json: values.json, annotateDir: values.annotate, signal: outputGone.signal, ignored });
      return 0;
    case 'eval': {
      if (positionals.length !== 1) throw new UsageError('eval needs one folder holding gt.json');
      const frames = readTextFrameSet(positionals[0]); // before the models load: a bad gt.json is told at once
      if (values.annotate !== undefined) makeAnnotateFolder(values.annotate);
      const report = await evaluate(await detector(), await reader(), positionals[0], frames, { annotateDir: values.annotate, ignored });
      process.stdout.write(`${values.json ? JSON.stringify(report) : formatEvaluation(report)}\n`);
      return 0;
    }
    case 'bench': {
      if (values.upstream) {
        const report = await benchUpstream({ workspaceRoot: root, burst: 3000, rate: 30, outageSeconds: 10 }, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(`${values.json ? JSON.stringify(report) : formatUpstreamBench(report)}\n`);
        return 0;
      }
      // With --preview, 10 s segments: 3 s ones (of 20) gave 0.84-1.02 watched / paused, run to run, a preview resumed
      // from its pause weighing on the short segment after.
      const seconds = values.seconds === undefined ? (values.batch ? 6 : values.preview ? 60 : 20) : readFlag('seconds', env.number('--seconds'), values.seconds);
      if (!(seconds > 0)) throw new Error(`--seconds must be a positive number (got ${JSON.stringify(values.seconds)})`);
      const video = resolve(values.video ?? join(root, 'assets/demo/demo.mp4'));
      if (values.batch) {
        const batches = parseBatchSizes(values.batch);
        const reports = await benchBatches({ video, presets: ['default', 'seed'], modelsDir: join(root, 'models'), batches, streams, threads, seconds }, (line) =>
          process.stderr.write(`${line}\n`),
        );
        process.stdout.write(`${values.json ? JSON.stringify({ batches: reports }) : formatBatchBench(reports)}\n`);
        return 0;
      }
      const cameras = readFlag('cameras', env.integer('--cameras', { min: 1, max: 10 }), values.cameras);
      if (backend && !BENCH_BACKENDS.includes(backend as BenchBackend)) throw new Error(`bench --backend must be onnxruntime or tensorrt (got ${backend})`);
      const rows = await benchBackends(
        backend ? [backend as BenchBackend] : BENCH_BACKENDS,
        { video, modelPath, workspaceRoot: root, preset: getPreset(preset), streams, threads, seconds, warmupSeconds: 3, preview: values.preview, inProcess: values['in-process'], cameras },
        (line) => process.stderr.write(`${line}\n`),
      );
      // One JSON object: the first backend's report at the top level (the CPU's unless --backend says otherwise),
      // any other backend's row under its name.
      const [primary, ...others] = rows;
      const json = { ...primary, ...Object.fromEntries(others.map((row) => [row.backend, row])) };
      process.stdout.write(`${values.json ? JSON.stringify(json) : formatBenchRows(rows)}\n`);
      return 0;
    }
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    // parseArgs's refusals (an unknown option, a missing value) are the command line's too.
    const isUsage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_');
    const flagsListed = isUsage ? `\n(npm run ${process.argv[2]} -- --help lists every flag)` : '';
    process.stderr.write(`error: ${error.message}${flagsListed}\n`);
    process.exit(1);
  },
);
