import { loadTextDetector, type TextDetector } from '@iev/detection-pipeline';
import { Preprocessor, type ImageView } from '@iev/text-detection';
import { decodeFile } from '../media';
import { round } from '../stats';

export interface BatchBenchOptions {
  video: string;
  /** Presets measured in turn, each with its own model from `modelsDir`. */
  presets: readonly string[];
  modelsDir: string;
  /** Batch sizes compared; the first is the one the others are compared with (1 in `--batch 1,2,4`). */
  batches: readonly number[];
  /** INFERENCE_STREAMS and INFERENCE_THREADS as the inference module reads them; 0 = its auto. */
  streams: number;
  threads: number;
  /** Measured seconds per batch size and preset, split over ROUNDS. */
  seconds: number;
}

export interface BatchFigures {
  batch: number;
  frames: number;
  msPerFrame: number;
  /** msPerFrame over the first batch size's: below 1, batching pays. */
  ratio: number;
}

export interface BatchBenchReport {
  preset: string;
  inputSize: string;
  streams: number;
  batches: BatchFigures[];
}

/** Batch sizes are measured in this many alternating segments: the machine's speed drifts, and weighs on each alike. */
const ROUNDS = 3;
/** Distinct frames of the video fed in turn, so a batch never holds the same frame twice. */
const FRAMES = 8;

/**
 * Detection (preprocess, model, postprocess: TextDetector.detectBatch) on the video's frames in batches of each
 * size, with the inference module's streams and threads and as many batches in the model as it has streams, in
 * ms of wall time per frame.
 */
export async function benchBatches(options: BatchBenchOptions, log: (line: string) => void): Promise<BatchBenchReport[]> {
  const frames = await firstFrames(options.video, FRAMES);
  const maxBatch = Math.max(...options.batches);
  const reports: BatchBenchReport[] = [];
  for (const preset of options.presets) {
    const detector = await loadTextDetector({
      preset,
      modelsDir: options.modelsDir,
      backend: 'onnxruntime',
      useTensorRt: false,
      streams: options.streams,
      threads: options.threads,
      batch: maxBatch,
      log: { info: log, warn: log },
    });
    try {
      reports.push(await measurePreset(detector, frames, options, log));
    } finally {
      await detector.backend.dispose();
    }
  }
  return reports;
}

async function measurePreset(detector: TextDetector, frames: ImageView[], options: BatchBenchOptions, log: (line: string) => void): Promise<BatchBenchReport> {
  const totals = options.batches.map(() => ({ frames: 0, ms: 0 }));
  for (const batch of options.batches) await runFor(detector, frames, batch, 0); // warm-up: each stream's first run of a shape allocates
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    for (const [i, batch] of options.batches.entries()) {
      const segment = await runFor(detector, frames, batch, (options.seconds * 1000) / ROUNDS);
      totals[i].frames += segment.frames;
      totals[i].ms += segment.ms;
    }
  }
  const msPerFrame = totals.map(({ frames, ms }) => ms / frames);
  const input = new Preprocessor(detector.preset).run(frames[0]);
  const report: BatchBenchReport = {
    preset: detector.preset.name,
    inputSize: `${input.width}x${input.height}`,
    streams: detector.concurrency,
    batches: options.batches.map((batch, i) => ({ batch, frames: totals[i].frames, msPerFrame: round(msPerFrame[i]), ratio: round(msPerFrame[i] / msPerFrame[0], 3) })),
  };
  log(`${report.preset}: ${report.batches.map((b) => `batch ${b.batch} ${b.msPerFrame} ms/frame`).join(', ')}`);
  return report;
}

/** Keeps `concurrency` batches in the model until `durationMs` is up; the frames done and the wall time they took. */
async function runFor(detector: TextDetector, frames: ImageView[], batch: number, durationMs: number): Promise<{ frames: number; ms: number }> {
  const started = performance.now();
  const deadline = started + durationMs;
  let done = 0;
  let next = 0;
  const stream = async () => {
    do {
      const images = Array.from({ length: batch }, () => frames[next++ % frames.length]);
      done += (await detector.detectBatch(images)).length;
    } while (performance.now() < deadline);
  };
  await Promise.all(Array.from({ length: detector.concurrency }, stream));
  return { frames: done, ms: performance.now() - started };
}

async function firstFrames(video: string, count: number): Promise<ImageView[]> {
  const frames: ImageView[] = [];
  for await (const { image } of decodeFile(video)) {
    frames.push({ ...image, data: Buffer.from(image.data) });
    if (frames.length === count) break;
  }
  if (frames.length < count) throw new Error(`${video} has fewer than ${count} frames`);
  return frames;
}

/** `--batch 1,2,4`: distinct whole batch sizes from 1 to 16, the first the one the others are compared with. */
export function parseBatchSizes(text: string): number[] {
  const sizes = text.split(',').map((part) => Number(part.trim()));
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 1 || size > 16) || new Set(sizes).size !== sizes.length) {
    throw new Error(`--batch must be distinct batch sizes from 1 to 16 separated by commas, e.g. 1,2,4 (got ${text})`);
  }
  return sizes;
}

export function formatBatchBench(reports: readonly BatchBenchReport[]): string {
  return reports
    .map((report) => {
      const [first] = report.batches;
      return [
        `batches: preset ${report.preset}, model input ${report.inputSize}, ${report.streams} ${report.streams === 1 ? 'stream' : 'streams'}, as many batches in the model at once`,
        `batch   frames   ms/frame   vs batch ${first.batch}   (below 1: batching pays)`,
        ...report.batches.map((b) => `${String(b.batch).padStart(5)} ${String(b.frames).padStart(8)} ${b.msPerFrame.toFixed(2).padStart(10)} ${b.ratio.toFixed(3).padStart(12)}`),
      ].join('\n');
    })
    .join('\n\n');
}
