import { SequenceGaps } from '@iev/service-runtime';
import { medianOf, percentiles, round, summarize } from '../stats';
import type { MeasuredPipeline, Received, ReceivedDetections } from './bench-segments';
import type { CpuUsage, ThreadGroup } from './process-cpu';
import type { PipelineUsage } from './pipeline-usage';

export type StageSummary = { medianMs: number; p90Ms: number; count: number };
export type StageName = 'decode' | 'transport' | 'preprocess' | 'inference' | 'postprocess' | 'publish';

/** A share of the CPU: percent of one core over the measured time, and CPU-ms per frame consumed (one detections message). */
export interface CpuShare {
  corePercent: number;
  msPerFrame: number;
}

/**
 * A module's process: all its threads (ended ones too) and each thread group seen (process-cpu.ts); and the GC pauses of its main
 * thread, as prom-client times them: wall time, not CPU time (V8's helper threads share the work, and on a busy
 * machine a pause lasts longer than its CPU), so as a share of the time the main thread stood still.
 */
export type ModuleCpu = { total: CpuShare; gcPauses: CpuShare } & Partial<Record<ThreadGroup, CpuShare>>;

export interface CpuFigures {
  /** capture's child processes: ffmpeg or gst-launch. */
  decoder: CpuShare;
  capture: ModuleCpu;
  inference: ModuleCpu;
  /** Frames capture decoded, and frames the inference module took, while measured. */
  framesDecoded: number;
  framesConsumed: number;
  /** capture and its decoder together, CPU-ms per frame decoded and per frame consumed. */
  captureMsPerDecodedFrame: number;
  captureMsPerConsumedFrame: number;
  /** The preview module's, when one ran beside the pipeline (`--preview`). */
  preview?: CpuShare;
  /**
   * The rest of the machine meanwhile, so that the rows add up to every core: this bench's own process (it listens to
   * the detections, as telemetry would), other processes and the kernel's interrupts, cores left idle, and time the
   * hypervisor gave to other guests.
   */
  machine: { bench: CpuShare; otherProcesses: CpuShare; idle: CpuShare; stolen: CpuShare };
}

export interface LatencyFigures {
  /** Capture time → detections published, per frame. */
  latencyMs: { p50: number; p90: number; p99: number };
  /** Median bare session.run time in the pipeline's own configuration: the model's own time per frame. */
  modelMedianMs: number;
  /** latencyMs.p99 / modelMedianMs (target ≤ 2). */
  latencyRatio: number;
}

/**
 * The pipeline's fps in each round's segment against the bare measure's fps in the same round: how far one run's
 * ratio can be trusted on a machine whose speed drifts.
 */
export function ratiosByRound({ segments, segmentLengthsMs }: Pick<MeasuredPipeline, 'segments' | 'segmentLengthsMs'>, bareRoundFps: readonly number[]): number[] {
  if (segments.length !== bareRoundFps.length) throw new RangeError(`${segments.length} pipeline segments for ${bareRoundFps.length} bare rounds`);
  return segments.map((received, index) => round((received.length * 1000) / segmentLengthsMs[index] / bareRoundFps[index], 3));
}

export function roundSummary(summary: StageSummary): StageSummary {
  return { medianMs: round(summary.medianMs), p90Ms: round(summary.p90Ms), count: summary.count };
}

/** Median and p90 of a figure every detections message carries. */
export function stageSummary(received: Received[], pick: (d: ReceivedDetections, receivedAtMs: number) => number): StageSummary {
  return roundSummary(summarize(received.map(({ detections, receivedAtMs }) => pick(detections, receivedAtMs))));
}

export function endToEndLatency(received: Received[]): LatencyFigures['latencyMs'] {
  const { p50, p90, p99 } = percentiles(received.map(({ detections }) => detections.publishedAtMs - detections.frame.captureTimeMs));
  return { p50: round(p50), p90: round(p90), p99: round(p99) };
}

export function latencyFigures(pipeline: MeasuredPipeline, modelRunMs: number[]): LatencyFigures {
  const latencyMs = endToEndLatency(pipeline.detections);
  const modelMedianMs = medianOf(modelRunMs);
  return { latencyMs, modelMedianMs: round(modelMedianMs), latencyRatio: round(latencyMs.p99 / modelMedianMs, 3) };
}

export function cpuFigures({ usage, detections }: MeasuredPipeline): CpuFigures {
  const framesConsumed = detections.length;
  const share = (cpuMs: number): CpuShare => ({ corePercent: round((cpuMs / usage.wallMs) * 100, 1), msPerFrame: round(cpuMs / framesConsumed) });
  const captureMs = captureCpuMs(usage);
  const previewMs = withChildren(usage.preview);
  return {
    // Capture's children, or inference's where it decodes its cameras itself.
    decoder: share(usage.capture.childrenMs + usage.inference.childrenMs),
    capture: moduleCpu(usage.capture, usage.captureGcMs, share),
    inference: moduleCpu(usage.inference, usage.inferenceGcMs, share),
    framesDecoded: usage.framesDecoded,
    framesConsumed,
    captureMsPerDecodedFrame: round(captureMs / usage.framesDecoded),
    captureMsPerConsumedFrame: round(captureMs / framesConsumed),
    ...(previewMs > 0 && { preview: share(previewMs) }),
    machine: {
      // Not clamped: a negative figure would say the snapshots were not taken together.
      bench: share(usage.benchMs),
      // The bench's children are the modules: its own time only.
      otherProcesses: share(usage.machine.busyMs - withChildren(usage.capture) - withChildren(usage.inference) - previewMs - usage.benchMs),
      idle: share(usage.machine.idleMs),
      stolen: share(usage.machine.stolenMs),
    },
  };
}

/** Capture's processes and their decoders, or the decoders alone where inference runs them (its only children). */
function captureCpuMs(usage: PipelineUsage): number {
  return withChildren(usage.capture) + usage.inference.childrenMs;
}

function withChildren({ processMs, childrenMs }: CpuUsage): number {
  return processMs + childrenMs;
}

function moduleCpu(cpu: CpuUsage, gcMs: number, share: (cpuMs: number) => CpuShare): ModuleCpu {
  const groups = Object.fromEntries(Object.entries(cpu.groups).map(([group, ms]) => [group, share(ms)]));
  return { total: share(cpu.processMs), gcPauses: share(gcMs), ...groups };
}

/** The pipeline's fps with the preview module taking frames and a client watching, and with the preview paused. */
export interface PreviewFigures {
  fpsWith: number;
  fpsWithout: number;
  /** fpsWith / fpsWithout: what watching costs the pipeline (target ≥ 0.97). */
  ratio: number;
  /** CPU as % of one core, watched and paused: the preview's own, and capture's and inference's beside it. */
  corePercent: { preview: number; captureWith: number; captureWithout: number; inferenceWith: number; inferenceWithout: number };
}

export function previewFigures(watched: MeasuredPipeline, paused: MeasuredPipeline): PreviewFigures {
  const percent = (cpuMs: number, { usage }: MeasuredPipeline) => round((cpuMs / usage.wallMs) * 100, 1);
  return {
    fpsWith: round(watched.fps),
    fpsWithout: round(paused.fps),
    ratio: round(watched.fps / paused.fps, 3),
    corePercent: {
      preview: percent(watched.usage.preview.processMs, watched),
      captureWith: percent(captureCpuMs(watched.usage), watched),
      captureWithout: percent(captureCpuMs(paused.usage), paused),
      inferenceWith: percent(watched.usage.inference.processMs, watched),
      inferenceWithout: percent(paused.usage.inference.processMs, paused),
    },
  };
}

export interface RecognitionFigures {
  fpsWith: number;
  fpsWithout: number;
  ratio: number;
  linesReadPerFrame: number;
  linesCarriedPerFrame: number;
  /** How long a new line's text waited for the reader: its first frame → the frame its first read showed with. */
  textAfterMs: { p50: number; p90: number; count: number };
  /** The pipeline with RECOGNITION=off: capture time → detections published. */
  latencyMsWithout: LatencyFigures['latencyMs'];
  /** CPU: fpsWithout / bareStreamsFps, the streams ratio of the same pipeline without the reader's model. */
  streamsRatioWithout?: number;
  /** The same, round by round (see BenchReport.streamsRatioRounds). */
  streamsRatioWithoutRounds?: number[];
}

export function recognitionFigures(withRecognition: MeasuredPipeline, without: MeasuredPipeline): RecognitionFigures {
  const perFrame = (count: (d: ReceivedDetections) => number) => round(withRecognition.detections.reduce((sum, { detections }) => sum + count(detections), 0) / withRecognition.detections.length);
  return {
    fpsWith: round(withRecognition.fps),
    fpsWithout: round(without.fps),
    ratio: round(withRecognition.fps / without.fps, 3),
    linesReadPerFrame: perFrame((d) => d.lines?.read ?? 0),
    linesCarriedPerFrame: perFrame((d) => d.lines?.carried ?? 0),
    textAfterMs: textAfter(withRecognition.segments),
    latencyMsWithout: endToEndLatency(without.detections),
  };
}

/**
 * TextAfterMs of the lines that appeared within a segment: one that appeared before it would count the pause between
 * segments as waiting.
 */
function textAfter(segments: Received[][]): RecognitionFigures['textAfterMs'] {
  const waits = segments.flatMap((segment) => {
    const startMs = Math.min(...segment.map(({ detections }) => detections.frame.captureTimeMs));
    return segment.flatMap(({ detections: { frame, lines } }) => (lines?.textAfterMs ?? []).filter((ms) => frame.captureTimeMs - ms >= startMs));
  });
  const { p50, p90 } = percentiles(waits);
  return { p50: round(p50), p90: round(p90), count: waits.length };
}

/** One source's share of a pipeline that takes frames from several. */
export interface SourceFigures {
  id: string;
  fps: number;
  /** Capture time → detections published. */
  latencyMs: LatencyFigures['latencyMs'];
  /** Frames of this source's that the model never saw: gaps in its sequence numbers within a measured segment. */
  skipped: number;
}

export interface MultiSourceFigures {
  sources: SourceFigures[];
  /** Frames of all sources per second: the pipeline's fps. */
  aggregateFps: number;
  /** aggregateFps / the bare model in the pipeline's own configuration (target >= 0.9). */
  aggregateRatio: number;
  /** The slowest source's fps / the fastest's (target >= 0.8). */
  sourceFairness: number;
}

/** Per-source figures of a pipeline fed by several sources, against the bare model's fps in the same configuration. */
export function multiSourceFigures(pipeline: MeasuredPipeline, sourceIds: readonly string[], bareFps: number): MultiSourceFigures {
  const ofSource = (received: Received[], id: string) => received.filter(({ detections }) => detections.frame.sourceId === id);
  const sources = sourceIds.map((id): SourceFigures => {
    const detections = ofSource(pipeline.detections, id);
    return {
      id,
      fps: round((detections.length * 1000) / pipeline.ms),
      latencyMs: detections.length > 0 ? endToEndLatency(detections) : { p50: NaN, p90: NaN, p99: NaN },
      skipped: pipeline.segments.reduce((sum, segment) => sum + framesSkipped(ofSource(segment, id)), 0),
    };
  });
  const fps = sources.map((source) => source.fps);
  return {
    sources,
    aggregateFps: round(pipeline.fps),
    aggregateRatio: round(pipeline.fps / bareFps, 3),
    sourceFairness: round(Math.max(...fps) > 0 ? Math.min(...fps) / Math.max(...fps) : 0, 3),
  };
}

/** Frames missing between consecutive sequence numbers, in the order they arrived (as inference counts skips). */
function framesSkipped(received: Received[]): number {
  const gaps = new SequenceGaps();
  return received.reduce((sum, { detections: { frame } }) => sum + gaps.observe(frame.sourceId, frame.sequence), 0);
}
