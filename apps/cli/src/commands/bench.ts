import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuParallelism, presetReads, selectBackend } from '@iev/detection-pipeline';
import { detectionsCodec, DETECTIONS_TOPIC, epochMs, type Detections } from '@iev/frame-protocol';
import { probeTensorRt, readTensorRtSettings } from '@iev/tensorrt-backend';
import { Preprocessor, type DetectionPreset } from '@iev/text-detection';
import { Subscriber } from 'zeromq';
import { decodeFile } from '../media';
import { round, summarize } from '../stats';
import { BareSessions } from './bare-sessions';

export const BENCH_BACKENDS = ['onnxruntime', 'tensorrt'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

export interface BenchOptions {
  backend: BenchBackend;
  video: string;
  modelPath: string;
  workspaceRoot: string;
  preset: DetectionPreset;
  /** INFERENCE_STREAMS and INFERENCE_THREADS for the pipeline; 0 = the module's auto. */
  streams: number;
  threads: number;
  /** Seconds of pipeline measurement after warm-up; bare session.run gets as long. */
  seconds: number;
  warmupSeconds: number;
}

type StageSummary = { medianMs: number; p90Ms: number; count: number };

export interface BenchReport {
  backend: BenchBackend;
  preset: string;
  inputSize: string;
  /** Bare session.run: one session with ONNX Runtime's defaults, as the original sample ran the model. */
  bareFps: number;
  pipelineFps: number;
  ratio: number;
  /** CPU only: bare session.run in the pipeline's own configuration, `streams` sessions side by side. */
  bareStreamsFps?: number;
  /** pipelineFps / bareStreamsFps: what our code around the model costs, streams for streams. */
  streamsRatio?: number;
  stages: Record<'decode' | 'transport' | 'preprocess' | 'inference' | 'postprocess' | 'publish', StageSummary> & { recognize?: StageSummary };
  /**
   * Presets that read text: the pipeline with recognition (pipelineFps) against the same pipeline with
   * RECOGNITION=off, measured in alternating segments of the same run; lines read by the model and carried from
   * earlier frames, per frame.
   */
  recognition?: { fpsWith: number; fpsWithout: number; ratio: number; linesReadPerFrame: number; linesCarriedPerFrame: number };
  framesMeasured: number;
  streams: number;
  /** Per stream; 0 = ONNX Runtime's default. */
  threads: number;
}

/** Bare and pipeline are measured in this many alternating segments. */
const ROUNDS = 4;
/** After capture resumes, its decoder catches up on the paused time in a burst: not measured. */
const SETTLE_MS = 1500;

/** Bare model runs on the bench's input for about a given time; measure() gives runs per second. */
interface BareMeasure {
  measure(durationMs: number): Promise<number>;
  release(): Promise<void>;
}
type Received = { detections: Detections; receivedAtMs: number };

/**
 * Runs the real capture and inference processes on the demo video (capture paced at the video's own rate,
 * as a live camera would be) and listens to their detections like telemetry does; bare `session.run` on the
 * same input size is measured in this process, never at the same time as the pipeline, so neither steals the
 * other's cores.
 */
export async function bench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const decode = await measureDecode(options.video);
  log(`decode: ${decode.medianMs.toFixed(2)} ms median per frame`);

  const first = await firstFrame(options.video);
  const input = new Preprocessor(options.preset).run(first);
  const inputSize = `${input.width}x${input.height}`;
  const tensor = { tensor: input.tensor.slice(), dims: [1, 3, input.height, input.width] };
  // TensorRT runs one stream on its GPU; the CPU's auto is the inference module's own (cpuParallelism).
  const { streams, threads } = options.backend === 'tensorrt' ? { streams: 1, threads: 0 } : cpuParallelism(options.streams, options.threads);
  const bareMeasures: BareMeasure[] = [];
  let measured: Awaited<ReturnType<typeof measureAlternating>>;
  try {
    if (options.backend === 'tensorrt') {
      bareMeasures.push(await openBareTensorRt(options, tensor));
    } else {
      const sessions = (count: number, threadsEach: number, moduleOptions: boolean) =>
        BareSessions.open({ modelPath: options.modelPath, workspaceRoot: options.workspaceRoot, sessions: count, threads: threadsEach, moduleOptions }, tensor);
      bareMeasures.push(await sessions(1, 0, false), await sessions(streams, threads, true));
    }
    measured = await measureAlternating({ ...options, streams, threads }, bareMeasures, log);
  } finally {
    await Promise.all(bareMeasures.map((bare) => bare.release()));
  }
  const { pipelines, bare } = measured;
  const [pipeline, withoutRecognition] = pipelines;
  const [bareFps, bareStreamsFps] = bare;
  log(`pipeline: ${pipeline.fps.toFixed(2)} fps over ${pipeline.detections.length} frames at ${inputSize}, ${streams} stream(s) of ${threads || 'auto'} thread(s)`);
  log(`bare session.run: ${bareFps.toFixed(2)} fps${bareStreamsFps === undefined ? '' : `; ${bareStreamsFps.toFixed(2)} fps in ${streams} sessions side by side like the pipeline's streams`}`);

  const stage = (pick: (d: Detections, receivedAtMs: number) => number) =>
    roundSummary(summarize(pipeline.detections.map(({ detections, receivedAtMs }) => pick(detections, receivedAtMs))));
  return {
    backend: options.backend,
    preset: options.preset.name,
    inputSize,
    bareFps: round(bareFps),
    pipelineFps: round(pipeline.fps),
    ratio: round(pipeline.fps / bareFps, 3),
    ...(bareStreamsFps !== undefined && { bareStreamsFps: round(bareStreamsFps), streamsRatio: round(pipeline.fps / bareStreamsFps, 3) }),
    stages: {
      decode: roundSummary(decode),
      transport: stage((d) => d.timings.transportMs),
      preprocess: stage((d) => d.timings.preprocessMs),
      inference: stage((d) => d.timings.inferenceMs),
      postprocess: stage((d) => d.timings.postprocessMs),
      publish: stage((d, receivedAtMs) => receivedAtMs - d.publishedAtMs),
      ...(withoutRecognition && { recognize: stage((d) => d.timings.recognizeMs ?? 0) }),
    },
    ...(withoutRecognition && { recognition: recognitionFigures(pipeline, withoutRecognition) }),
    framesMeasured: pipeline.detections.length,
    streams,
    threads,
  };
}

function recognitionFigures(withRecognition: MeasuredPipeline, without: MeasuredPipeline): NonNullable<BenchReport['recognition']> {
  const perFrame = (count: (d: Detections) => number) => round(withRecognition.detections.reduce((sum, { detections }) => sum + count(detections), 0) / withRecognition.detections.length);
  return {
    fpsWith: round(withRecognition.fps),
    fpsWithout: round(without.fps),
    ratio: round(withRecognition.fps / without.fps, 3),
    linesReadPerFrame: perFrame((d) => d.lines?.read ?? 0),
    linesCarriedPerFrame: perFrame((d) => d.lines?.carried ?? 0),
  };
}

function roundSummary(summary: StageSummary): StageSummary {
  return { medianMs: round(summary.medianMs), p90Ms: round(summary.p90Ms), count: summary.count };
}

/** Time between consecutive frames out of ffmpeg when decoding as fast as it can: decode plus the pipe. */
async function measureDecode(video: string): Promise<StageSummary> {
  const gaps: number[] = [];
  let last = performance.now();
  for await (const { index } of decodeFile(video)) {
    const now = performance.now();
    if (index > 0) gaps.push(now - last);
    last = now;
    if (index >= 300) break;
  }
  return summarize(gaps);
}

interface MeasuredPipeline {
  fps: number;
  detections: Received[];
}

/**
 * The machine's speed drifts here by up to 30 % within a minute, so the pipeline and bare `session.run` are
 * measured in ROUNDS alternating segments and each side's fps is its frames over its own time: the drift
 * weighs on both. During a bare segment capture is paused (SIGSTOP), so inference sits idle. A preset that reads
 * text gets a second inference module beside the first with RECOGNITION=off, measured in segments of its own
 * while the other is paused. Returns each pipeline's fps and detections (the preset's own first), and each bare
 * measure's fps averaged over the rounds.
 */
async function measureAlternating(
  options: BenchOptions,
  bareMeasures: BareMeasure[],
  log: (line: string) => void,
): Promise<{ pipelines: MeasuredPipeline[]; bare: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'iev-bench-'));
  const frames = `ipc://${join(dir, 'frames')}`;
  const subscriber = new Subscriber({ linger: 0 });
  subscriber.subscribe(DETECTIONS_TOPIC);

  const variants: Record<string, string>[] = presetReads(options.preset.name, undefined) ? [{}, { RECOGNITION: 'off' }] : [{}];
  const inferences = variants.map((variant, index) => {
    const detectionsEndpoint = `ipc://${join(dir, `detections-${index}`)}`;
    subscriber.connect(detectionsEndpoint);
    return startModule(options.workspaceRoot, 'inference', {
      FRAMES_CONNECT: frames,
      DETECTIONS_BIND: detectionsEndpoint,
      DETECTION_PRESET: options.preset.name,
      INFERENCE_BACKEND: options.backend,
      INFERENCE_STREAMS: String(options.streams),
      INFERENCE_THREADS: String(options.threads),
      MODEL_PATH: options.modelPath,
      METRICS_PORT: '0',
      ...variant,
    });
  });
  const capture = startModule(options.workspaceRoot, 'capture', { CAMERA_PATH: options.video, FRAMES_BIND: frames, CAPTURE_LOOP: 'true', CAPTURE_REALTIME: 'true', METRICS_PORT: '0' });
  const modules = [...inferences, capture];
  const exited = new Promise<never>((_, reject) => {
    for (const child of modules) child.once('exit', (code) => reject(new Error(`a module exited during the bench (code ${code})`)));
  });
  const whileRunning = <T>(work: Promise<T>) => Promise.race([work, exited]);

  const received: Received[] = [];
  const collecting = (async () => {
    for await (const [, ...parts] of subscriber) received.push({ detections: detectionsCodec.decode(parts), receivedAtMs: epochMs() });
  })().catch(() => undefined);
  const measured = inferences.map(() => ({ ms: 0, detections: [] as Received[] }));
  const bareFpsSums = bareMeasures.map(() => 0);
  const segmentMs = (options.seconds / ROUNDS) * 1000;
  try {
    log(`pipeline: warming up ${options.warmupSeconds} s, then ${ROUNDS} rounds of bare session.run and ${(segmentMs / 1000).toFixed(1)} s of each pipeline`);
    await whileRunning(until(() => new Set(received.map(({ detections }) => detections.timings.recognizeMs === undefined)).size === inferences.length, 120_000, () => 'the first detections from each pipeline'));
    for (const inference of inferences.slice(1)) inference.kill('SIGSTOP');
    await whileRunning(sleep(options.warmupSeconds * 1000));
    for (let round = 0; round < ROUNDS; round++) {
      capture.kill('SIGSTOP');
      await whileRunning(sleep(500)); // the frame in the model finishes
      for (const [i, bare] of bareMeasures.entries()) bareFpsSums[i] += await whileRunning(bare.measure(segmentMs / bareMeasures.length));
      capture.kill('SIGCONT');
      for (const [i, inference] of inferences.entries()) {
        inference.kill('SIGCONT');
        await whileRunning(sleep(SETTLE_MS));
        const from = epochMs();
        await whileRunning(sleep(segmentMs));
        const to = epochMs();
        if (inferences.length > 1) inference.kill('SIGSTOP');
        measured[i].ms += to - from;
        measured[i].detections.push(...received.filter(({ receivedAtMs }) => receivedAtMs >= from && receivedAtMs < to));
      }
      if (inferences.length > 1) inferences[0].kill('SIGCONT');
    }
  } finally {
    for (const child of modules) child.kill('SIGCONT');
    for (const child of modules) child.removeAllListeners('exit');
    await Promise.all(modules.map(stopModule));
    subscriber.close();
    await collecting;
    rmSync(dir, { recursive: true, force: true });
  }
  if (measured.some(({ detections }) => detections.length === 0)) throw new Error('no detections arrived while a pipeline was measured');
  return {
    pipelines: measured.map(({ ms, detections }) => ({ fps: (detections.length * 1000) / ms, detections })),
    bare: bareFpsSums.map((sum) => sum / ROUNDS),
  };
}

/** Polls the condition every 50 ms; `what` names what was awaited when it times out. */
async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what()}`);
    await sleep(50);
  }
}

export function startModule(root: string, name: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(root, 'dist/apps', name, 'main.js')], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

export function stopModule(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * TensorRT's counterpart: the backend's run() on the same preprocessed frame (the engine from the cache the inference
 * module uses, so it is built at most once), repeated; that includes the copies to and from the GPU.
 */
async function openBareTensorRt(options: BenchOptions, input: { tensor: Float32Array; dims: number[] }): Promise<BareMeasure> {
  const log = { info: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) };
  // Built the way the inference module builds it, so the engine and its cache key are the same.
  const backend = selectBackend({ ...readTensorRtSettings(), backend: 'tensorrt', useTensorRt: true, streams: 1, threads: 0, modelPath: options.modelPath, preset: options.preset, log });
  await backend.load();
  const tensor = { data: input.tensor, dims: input.dims };
  const runOnce = async () => backend.recycle?.(await backend.run(tensor));
  return {
    async measure(durationMs: number): Promise<number> {
      await runOnce();
      const started = performance.now();
      let runs = 0;
      do {
        await runOnce();
        runs++;
      } while (performance.now() - started < durationMs);
      return (runs * 1000) / (performance.now() - started);
    },
    release: () => backend.dispose(),
  };
}

export type BenchRow = BenchReport | { backend: BenchBackend; skipped: string };

/** Benches each backend in turn; one that cannot run on this machine is a row saying why, not a failure. */
export async function benchBackends(backends: readonly BenchBackend[], options: Omit<BenchOptions, 'backend'>, log: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const backend of backends) {
    const tensorRt = backend === 'tensorrt' ? probeTensorRt(readTensorRtSettings().tensorRtAddonPath) : undefined;
    if (tensorRt && !tensorRt.available) {
      rows.push({ backend, skipped: tensorRt.error.message });
      continue;
    }
    log(`${backend}:`);
    rows.push(await bench({ ...options, backend }, log));
  }
  return rows;
}

export function formatBenchRows(rows: BenchRow[]): string {
  return rows.map((row) => ('skipped' in row ? `${row.backend}: skipped (${row.skipped})` : formatBench(row))).join('\n\n');
}

async function firstFrame(video: string) {
  for await (const { image } of decodeFile(video)) return { ...image, data: Buffer.from(image.data) };
  throw new Error(`${video} has no frames`);
}

export function formatBench(report: BenchReport): string {
  const threads = report.threads ? `${report.threads} thread(s)` : "ONNX Runtime's default threads";
  const lines = [
    `${report.backend}: preset ${report.preset}, model input ${report.inputSize}, ${report.streams} stream(s) of ${threads}, ${report.framesMeasured} frames measured`,
    `stage         median ms   p90 ms`,
    ...Object.entries(report.stages).map(([name, s]) => `${name.padEnd(12)} ${s.medianMs.toFixed(2).padStart(10)} ${s.p90Ms.toFixed(2).padStart(8)}`),
    `pipeline fps ${report.pipelineFps.toFixed(2).padStart(10)}`,
    `bare run fps ${report.bareFps.toFixed(2).padStart(10)}   (one session, ONNX Runtime's defaults)`,
    `ratio        ${report.ratio.toFixed(3).padStart(10)}   (target >= 0.85)`,
  ];
  if (report.recognition) {
    const r = report.recognition;
    lines.push(
      `without reading ${r.fpsWithout.toFixed(2).padStart(7)}   (the same pipeline with RECOGNITION=off; pipeline fps above reads text)`,
      `reading ratio${r.ratio.toFixed(3).padStart(10)}   (target >= 0.6); per frame ${r.linesReadPerFrame} lines read, ${r.linesCarriedPerFrame} carried`,
    );
  }
  if (report.bareStreamsFps !== undefined && report.streamsRatio !== undefined) {
    lines.push(
      `bare streams ${report.bareStreamsFps.toFixed(2).padStart(10)}   (bare run fps, ${report.streams} sessions side by side like the pipeline)`,
      `streams ratio${report.streamsRatio.toFixed(3).padStart(10)}   (pipeline fps / bare streams: the cost of our code)`,
    );
  }
  return lines.join('\n');
}
