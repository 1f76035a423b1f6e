import { cpuParallelism } from '@iev/detection-pipeline';
import { probeTensorRt, readTensorRtSettings } from '@iev/tensorrt-backend';
import { Preprocessor, type DetectionPreset } from '@iev/text-detection';
import { decodeFile } from '../media';
import { round, summarize } from '../stats';
import { BareSessions, type BareMeasure } from './bare-sessions';
import { openBareTensorRt } from './bare-tensorrt';
import {
  cpuFigures,
  latencyFigures,
  multiSourceFigures,
  previewFigures,
  ratiosByRound,
  recognitionFigures,
  roundSummary,
  stageSummary,
  type CpuFigures,
  type LatencyFigures,
  type MultiSourceFigures,
  type PreviewFigures,
  type RecognitionFigures,
  type StageName,
  type StageSummary,
} from './bench-figures';
import { describeStreams } from './bench-format';
import { benchSourceIds, measureAlternating, type BareRounds } from './bench-segments';

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
  /** Run the preview module and an MJPEG client beside the pipeline, and measure it without them too. */
  preview?: boolean;
  /** Capture processes on the video (camera0, camera1, ...), all into the one inference module. */
  cameras: number;
  /** The cameras decoded by the inference module itself (CAPTURE_SOURCES) instead of by capture processes. */
  inProcess?: boolean;
}

/** With several cameras, also MultiSourceFigures: per source, and all of them against the bare model. */
export interface BenchReport extends LatencyFigures, Partial<MultiSourceFigures> {
  backend: BenchBackend;
  preset: string;
  inputSize: string;
  /** Where the cameras were decoded: capture modules, or the inference module itself (--in-process). */
  capture: 'modules' | 'in-process';
  /** Bare session.run: one session with ONNX Runtime's defaults, as the original sample ran the model. */
  bareFps: number;
  pipelineFps: number;
  ratio: number;
  /** CPU only: bare session.run in the pipeline's own configuration, `streams` sessions side by side. */
  bareStreamsFps?: number;
  /** pipelineFps / bareStreamsFps: what our code around the model costs, streams for streams. */
  streamsRatio?: number;
  /** The same, round by round of the alternation (each pipeline segment against that round's bare streams). */
  streamsRatioRounds?: number[];
  stages: Record<StageName, StageSummary> & { recognize?: StageSummary };
  /**
   * Presets that read text: the pipeline with recognition (pipelineFps) against the same pipeline with
   * RECOGNITION=off, measured in alternating segments of the same run; lines read by the model and carried from
   * earlier frames, per frame.
   */
  recognition?: RecognitionFigures;
  /** With --preview. */
  preview?: PreviewFigures;
  /** Where the CPU went while the pipeline (the preset's own) was measured. */
  cpu: CpuFigures;
  framesMeasured: number;
  streams: number;
  /** Per stream; 0 = ONNX Runtime's default. */
  threads: number;
}

/**
 * Runs the real capture and inference processes on the demo video and measures them (bench-segments.ts); bare
 * `session.run` on the same input size is measured in this process, never at the same time as the pipeline, so
 * neither steals the other's cores.
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
  // The CPU gets two bare measures: one session with ONNX Runtime's defaults, and the pipeline's own configuration.
  // TensorRT's one is both. The last is the pipeline's configuration either way.
  const bareMeasures: BareMeasure[] = [];
  let measured: Awaited<ReturnType<typeof measureAlternating>>;
  try {
    if (options.backend === 'tensorrt') {
      bareMeasures.push(await openBareTensorRt(options.modelPath, options.preset, tensor));
    } else {
      const sessions = (count: number, threadsEach: number, moduleOptions: boolean) =>
        BareSessions.open({ modelPath: options.modelPath, workspaceRoot: options.workspaceRoot, sessions: count, threads: threadsEach, moduleOptions }, tensor);
      bareMeasures.push(await sessions(1, 0, false), await sessions(streams, threads, true));
    }
    measured = await measureAlternating({ ...options, streams, threads }, bareMeasures, log);
  } finally {
    await Promise.all(bareMeasures.map((bare) => bare.release()));
  }
  const { pipelines, bare, withoutPreview } = measured;
  const [pipeline, withoutRecognition] = pipelines;
  const bareFps = bare[0].fps;
  // The CPU's second bare measure: the pipeline's own streams side by side.
  const bareStreams: BareRounds | undefined = bare[1];
  const pipelineConfiguration = bare[bare.length - 1];
  log(`pipeline: ${pipeline.fps.toFixed(2)} fps over ${pipeline.detections.length} frames at ${inputSize}, ${describeStreams({ backend: options.backend, streams, threads })}`);
  const sources = options.cameras > 1 ? multiSourceFigures(pipeline, benchSourceIds(options.cameras), pipelineConfiguration.fps) : undefined;
  log(`bare session.run: ${bareFps.toFixed(2)} fps${bareStreams === undefined ? '' : `; ${bareStreams.fps.toFixed(2)} fps in ${streams} sessions side by side like the pipeline's streams`}`);

  const stage = (pick: Parameters<typeof stageSummary>[1]) => stageSummary(pipeline.detections, pick);
  return {
    backend: options.backend,
    preset: options.preset.name,
    inputSize,
    capture: options.inProcess ? 'in-process' : 'modules',
    bareFps: round(bareFps),
    pipelineFps: round(pipeline.fps),
    ratio: round(pipeline.fps / bareFps, 3),
    ...(bareStreams && {
      bareStreamsFps: round(bareStreams.fps),
      streamsRatio: round(pipeline.fps / bareStreams.fps, 3),
      streamsRatioRounds: ratiosByRound(pipeline, bareStreams.roundFps),
    }),
    stages: {
      decode: roundSummary(decode),
      transport: stage((d) => d.timings.transportMs),
      preprocess: stage((d) => d.timings.preprocessMs),
      inference: stage((d) => d.timings.inferenceMs),
      postprocess: stage((d) => d.timings.postprocessMs),
      publish: stage((d, receivedAtMs) => receivedAtMs - d.publishedAtMs),
      ...(withoutRecognition && { recognize: stage((d) => d.timings.recognizeMs ?? 0) }),
    },
    ...latencyFigures(pipeline, pipelineConfiguration.runMs),
    ...(withoutRecognition && {
      recognition: {
        ...recognitionFigures(pipeline, withoutRecognition),
        ...(bareStreams && {
          streamsRatioWithout: round(withoutRecognition.fps / bareStreams.fps, 3),
          streamsRatioWithoutRounds: ratiosByRound(withoutRecognition, bareStreams.roundFps),
        }),
      },
    }),
    ...(withoutPreview && { preview: previewFigures(pipeline, withoutPreview) }),
    ...sources,
    cpu: cpuFigures(pipeline),
    framesMeasured: pipeline.detections.length,
    streams,
    threads,
  };
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

async function firstFrame(video: string) {
  for await (const { image } of decodeFile(video)) return { ...image, data: Buffer.from(image.data) };
  throw new Error(`${video} has no frames`);
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
