import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { presetReads } from '@iev/detection-pipeline';
import { detectionsCodec, DETECTIONS_TOPIC, epochMs, type Detections } from '@iev/frame-protocol';
import { Subscriber } from 'zeromq';
import type { BareMeasure, BareRuns } from './bare-sessions';
import type { BenchOptions } from './bench';
import { BENCH_CAPTURE_ENV, runBenchStage, startPreview, type BenchStage, type RunningModule, type WatchedPreview } from './bench-modules';
import { addUsage, lookAtPipeline, NO_USAGE, usageBetween, type PipelineUsage } from './pipeline-usage';

/**
 * What the figures read of a detections message. Every message is kept for the whole bench, so its boxes are not: the
 * bench's own CPU is counted beside the pipeline's, and boxes kept would be promoted and marked again at every full GC.
 */
export type ReceivedDetections = Pick<Detections, 'frame' | 'timings' | 'publishedAtMs' | 'lines'>;

export type Received = { detections: ReceivedDetections; receivedAtMs: number };

export interface MeasuredPipeline {
  fps: number;
  /** Time measured, all segments together. */
  ms: number;
  detections: Received[];
  /** The same detections, segment by segment (one a round): frames skipped are counted within a segment, not across a pause. */
  segments: Received[][];
  /** Each segment's length, in the same order. */
  segmentLengthsMs: number[];
  /** CPU and frames over the pipeline's measured segments. */
  usage: PipelineUsage;
}

/** A bare measure over the rounds: its fps averaged, every run's time, and its fps round by round. */
export interface BareRounds extends BareRuns {
  roundFps: number[];
}

/** One side of the alternation: an inference module, measured with its preview module running or paused. */
interface Arm {
  inference: RunningModule;
  preview?: WatchedPreview;
  previewWatched: boolean;
}

/** The SOURCE_ID of each capture the bench runs, as `npm start` and the deployment name their cameras. */
export function benchSourceIds(cameras: number): string[] {
  return Array.from({ length: cameras }, (_, index) => `camera${index}`);
}

/** Bare and pipeline are measured in at least this many alternating rounds: a multiple of the arms' count. */
const MIN_ROUNDS = 4;
/** After capture resumes, its decoder catches up on the paused time in a burst: not measured. */
const SETTLE_MS = 1500;

/**
 * Runs the real capture and inference processes on the video and listens to their detections like telemetry does;
 * with `cameras` > 1, that many capture processes on the video (camera0, camera1, ...) into the one inference.
 * The machine's speed drifts here by up to 30 % within a minute, so the pipeline and bare `session.run` are
 * measured in alternating rounds and each side's fps is its frames over its own time: the drift weighs on
 * both. During a bare segment capture is paused (SIGSTOP), so inference sits idle. A preset that reads text gets a
 * second inference module beside the first with RECOGNITION=off, measured in segments of its own while the other
 * is paused. With `preview`, the preview module takes frames and detections beside them and a client reads its live
 * stream (in process, a preview for each inference module, on the frames it offers); the preset's own pipeline is
 * then measured once more per round with the preview paused (SIGSTOP: it asks for nothing). Returns each pipeline's
 * fps, detections and CPU (the preset's own first), the same without the preview, and each bare measure's fps
 * averaged over the rounds (and round by round) with all its run times.
 */
export function measureAlternating(
  options: BenchOptions,
  bareMeasures: BareMeasure[],
  log: (line: string) => void,
): Promise<{ pipelines: MeasuredPipeline[]; withoutPreview?: MeasuredPipeline; bare: BareRounds[] }> {
  // The stage stops the modules and removes the folder, also when a signal interrupts the bench (runBenchStage).
  return runBenchStage('iev-bench-', log, (stage) => measureInStage(stage, options, bareMeasures, log));
}

async function measureInStage(stage: BenchStage, options: BenchOptions, bareMeasures: BareMeasure[], log: (line: string) => void) {
  const { dir } = stage;
  const sources = benchSourceIds(options.cameras).map((sourceId, index) => ({ sourceId, frames: `ipc://${join(dir, `frames-${index}`)}` }));
  const modules: RunningModule[] = [];
  const previews: WatchedPreview[] = [];
  // One subscriber per inference module: a segment counts only the detections of the module it measures.
  const listeners: DetectionsListener[] = [];

  try {
    // In process, each inference module decodes the cameras itself, with capture's bench settings.
    const framesEnv: Record<string, string> = options.inProcess
      ? { CAPTURE_SOURCES: JSON.stringify(sources.map(({ sourceId }) => ({ CAMERA_PATH: options.video, SOURCE_ID: sourceId, ...BENCH_CAPTURE_ENV }))) }
      : { FRAMES_CONNECT: sources.map(({ frames }) => frames).join(',') };
    const variants: Record<string, string>[] = presetReads(options.preset.name, undefined) ? [{}, { RECOGNITION: 'off' }] : [{}];
    // In process, each inference module offers the frames it decodes to a preview of its own, as a capture does.
    const offeredFrames = (index: number) => `ipc://${join(dir, `frames-offered-${index}`)}`;
    const inferences: RunningModule[] = [];
    for (const [index, variant] of variants.entries()) {
      const detectionsEndpoint = `ipc://${join(dir, `detections-${index}`)}`;
      listeners.push(listenForDetections(detectionsEndpoint));
      const inference = await stage.startModule(
        options.workspaceRoot,
        'inference',
        {
          ...framesEnv,
          ...(options.inProcess && options.preview && { FRAMES_BIND: offeredFrames(index) }),
          DETECTIONS_BIND: detectionsEndpoint,
          DETECTION_PRESET: options.preset.name,
          INFERENCE_BACKEND: options.backend,
          INFERENCE_STREAMS: String(options.streams),
          INFERENCE_THREADS: String(options.threads),
          MODEL_PATH: options.modelPath,
          ...variant,
        },
        ['inference', ...Object.entries(variant).map(([name, value]) => `${name}=${value}`)].join(' '),
      );
      inferences.push(inference);
      modules.push(inference);
    }
    const captures: RunningModule[] = [];
    for (const { sourceId, frames } of options.inProcess ? [] : sources) {
      captures.push(await stage.startModule(options.workspaceRoot, 'capture', { CAMERA_PATH: options.video, FRAMES_BIND: frames, SOURCE_ID: sourceId, ...BENCH_CAPTURE_ENV }, `capture ${sourceId}`));
    }
    modules.push(...captures);
    // What decodes the cameras is paused while the bare model runs: the captures, or the inference modules in process.
    const signalDecoding = (signal: NodeJS.Signals) => (options.inProcess ? inferences : captures).forEach(({ process: child }) => child.kill(signal));
    if (options.preview) {
      // With capture modules one preview serves every inference module, through the captures.
      for (const index of options.inProcess ? inferences.keys() : [0]) {
        const frames = options.inProcess ? [offeredFrames(index)] : sources.map(({ frames }) => frames);
        previews.push(await startPreview(stage, options.workspaceRoot, frames, `ipc://${join(dir, `detections-${index}`)}`));
      }
    }
    modules.push(...previews.map(({ module }) => module));
    const previewOf = (index: number): WatchedPreview | undefined => previews[options.inProcess ? index : 0];
    const exited = new Promise<never>((_, reject) => {
      for (const { label, process: child } of modules) {
        child.once('exit', (code, signal) => reject(new Error(`the ${label} module exited during the bench (${code === null ? `signal ${signal}` : `code ${code}`})`)));
      }
    });
    const whileRunning = <T>(work: Promise<T>) => stage.unlessInterrupted(Promise.race([work, exited]));

    // The preset's own pipeline is measured as it runs with a preview watched; once more with it paused.
    const watched = previews.length > 0;
    const arms: Arm[] = [
      ...inferences.map((inference, index) => ({ inference, preview: previewOf(index), previewWatched: watched })),
      ...(watched ? [{ inference: inferences[0], preview: previewOf(0), previewWatched: false }] : []),
    ];
    const measured = arms.map(() => ({ ms: 0, segments: [] as Received[][], segmentLengthsMs: [] as number[], usage: NO_USAGE }));
    const bareRuns = bareMeasures.map(() => ({ roundFps: [] as number[], runMs: [] as number[] }));
    const rounds = arms.length * Math.ceil(MIN_ROUNDS / arms.length);
    const segmentMs = (options.seconds / rounds) * 1000;
    log(`pipeline: warming up ${options.warmupSeconds} s (and each bare measure as long), then ${rounds} rounds of bare session.run and ${(segmentMs / 1000).toFixed(1)} s of each pipeline`);
    const everyPipelineAndSource = () =>
      listeners.every(({ received }) => new Set(received.map(({ detections }) => detections.frame.sourceId)).size === sources.length);
    await whileRunning(until(everyPipelineAndSource, 120_000, () => 'the first detections from each pipeline and source'));
    for (const inference of inferences.slice(1)) inference.process.kill('SIGSTOP');
    await whileRunning(sleep(options.warmupSeconds * 1000));
    for (let round = 0; round < rounds; round++) {
      signalDecoding('SIGSTOP');
      await whileRunning(sleep(500)); // the frame in the model finishes
      // The bare sessions are warmed up as long as the pipeline was, unmeasured, so that neither side's first round
      // is a cold one (a run's first bare round was often 13-23 % slower than its last).
      if (round === 0) for (const bare of bareMeasures) await whileRunning(bare.measure(options.warmupSeconds * 1000));
      for (const [i, bare] of bareMeasures.entries()) {
        const runs = await whileRunning(bare.measure(segmentMs / bareMeasures.length));
        bareRuns[i].roundFps.push(runs.fps);
        bareRuns[i].runMs.push(...runs.runMs);
      }
      signalDecoding('SIGCONT');
      // Each round starts with another arm: the one just after the bare segment meets what capture's pause left
      // behind (consumers to take back, a decoder to restart), so no arm should always be that one; with rounds a
      // multiple of the arms' count, each arm is first (and second, ...) as often as every other.
      for (const i of arms.map((_, k) => (k + round) % arms.length)) {
        const { inference, preview, previewWatched } = arms[i];
        // Only the measured module runs: another one would take frames and CPU from it.
        for (const other of inferences) other.process.kill(other === inference ? 'SIGCONT' : 'SIGSTOP');
        for (const other of previews) other.module.process.kill(other === preview && previewWatched ? 'SIGCONT' : 'SIGSTOP');
        await whileRunning(sleep(SETTLE_MS));
        // Frames are counted over the stretch the CPU is measured over: from one look's snapshots to the next's.
        const before = await whileRunning(lookAtPipeline(captures, inference, preview?.module));
        await whileRunning(sleep(Math.max(0, segmentMs - (epochMs() - before.atMs))));
        const after = await whileRunning(lookAtPipeline(captures, inference, preview?.module));
        const [from, to] = [before.atMs, after.atMs];
        measured[i].ms += to - from;
        measured[i].segmentLengthsMs.push(to - from);
        measured[i].usage = addUsage(measured[i].usage, usageBetween(before, after));
        const { received } = listeners[inferences.indexOf(inference)];
        measured[i].segments.push(received.filter(({ receivedAtMs }) => receivedAtMs >= from && receivedAtMs < to));
      }
    }
    const pipelines = measured.map(({ ms, segments, segmentLengthsMs, usage }) => ({ ms, segments, segmentLengthsMs, detections: segments.flat(), usage }));
    if (pipelines.some(({ detections }) => detections.length === 0)) throw new Error('no detections arrived while a pipeline was measured');
    const withFps = pipelines.map((pipeline) => ({ ...pipeline, fps: (pipeline.detections.length * 1000) / pipeline.ms }));
    return {
      pipelines: withFps.slice(0, inferences.length),
      ...(watched && { withoutPreview: withFps[inferences.length] }),
      bare: bareRuns.map(({ roundFps, runMs }) => ({ fps: roundFps.reduce((sum, fps) => sum + fps, 0) / rounds, runMs, roundFps })),
    };
  } finally {
    for (const preview of previews) preview.stopWatching();
    for (const { process: child } of modules) child.removeAllListeners('exit');
    await Promise.all(listeners.map(({ close }) => close()));
  }
}

/** The detections an inference module publishes, as they arrive. */
interface DetectionsListener {
  received: Received[];
  close(): Promise<void>;
}

function listenForDetections(endpoint: string): DetectionsListener {
  const subscriber = new Subscriber({ linger: 0 });
  subscriber.subscribe(DETECTIONS_TOPIC);
  subscriber.connect(endpoint);
  const received: Received[] = [];
  const collecting = (async () => {
    for await (const [, ...parts] of subscriber) {
      const receivedAtMs = epochMs();
      const { frame, timings, publishedAtMs, lines } = detectionsCodec.decode(parts);
      received.push({ detections: { frame, timings, publishedAtMs, ...(lines && { lines }) }, receivedAtMs });
    }
  })().catch(() => undefined);
  return {
    received,
    close: async () => {
      subscriber.close();
      await collecting;
    },
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
