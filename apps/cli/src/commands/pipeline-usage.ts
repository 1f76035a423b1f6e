import { addCpu, cpuBetween, NO_CPU, type CpuUsage } from './process-cpu';
import { lookAt, type ModuleLook, type RunningModule } from './bench-modules';

/** What one pipeline (capture with its decoder, and one inference module) used while it was measured. */
export interface PipelineUsage {
  wallMs: number;
  /** capture's threads by group; its children (the decoder) as childrenMs. */
  capture: CpuUsage;
  captureGcMs: number;
  inference: CpuUsage;
  inferenceGcMs: number;
  framesDecoded: number;
}

export interface PipelineLook {
  atMs: number;
  capture: ModuleLook;
  inference: ModuleLook;
}

export async function lookAtPipeline(capture: RunningModule, inference: RunningModule): Promise<PipelineLook> {
  const atMs = performance.now();
  const [captureLook, inferenceLook] = await Promise.all([lookAt(capture), lookAt(inference)]);
  return { atMs, capture: captureLook, inference: inferenceLook };
}

export function usageBetween(before: PipelineLook, after: PipelineLook): PipelineUsage {
  return {
    wallMs: after.atMs - before.atMs,
    capture: cpuBetween(before.capture.cpu, after.capture.cpu),
    captureGcMs: after.capture.gcMs - before.capture.gcMs,
    inference: cpuBetween(before.inference.cpu, after.inference.cpu),
    inferenceGcMs: after.inference.gcMs - before.inference.gcMs,
    framesDecoded: after.capture.framesDecoded - before.capture.framesDecoded,
  };
}

/** Two usages added up (the segments of one measurement). */
export function addUsage(a: PipelineUsage, b: PipelineUsage): PipelineUsage {
  return {
    wallMs: a.wallMs + b.wallMs,
    capture: addCpu(a.capture, b.capture),
    captureGcMs: a.captureGcMs + b.captureGcMs,
    inference: addCpu(a.inference, b.inference),
    inferenceGcMs: a.inferenceGcMs + b.inferenceGcMs,
    framesDecoded: a.framesDecoded + b.framesDecoded,
  };
}

export const NO_USAGE: PipelineUsage = { wallMs: 0, capture: NO_CPU, captureGcMs: 0, inference: NO_CPU, inferenceGcMs: 0, framesDecoded: 0 };
