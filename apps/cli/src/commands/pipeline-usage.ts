import { epochMs } from '@iev/frame-protocol';
import { addCpu, addMachineCpu, cpuBetween, machineCpuBetween, NO_CPU, NO_MACHINE_CPU, processCpuMs, snapshotCpu, snapshotMachineCpu, type CpuSnapshot, type CpuUsage, type MachineCpu } from './process-cpu';
import { lookAt, type ModuleLook, type RunningModule } from './bench-modules';

/** What one pipeline (capture with its decoder, or several, and one inference module) used while it was measured. */
export interface PipelineUsage {
  wallMs: number;
  /** capture's threads by group (every capture's added up); its children (the decoder) as childrenMs. */
  capture: CpuUsage;
  captureGcMs: number;
  inference: CpuUsage;
  inferenceGcMs: number;
  framesDecoded: number;
  /** The preview module's, when one ran beside the pipeline (NO_CPU otherwise). */
  preview: CpuUsage;
  /** This bench's own process's CPU-ms (its detections listeners): other processes are the machine's busy time less it and the modules'. */
  benchMs: number;
  /** Every core's, the pipeline's and all else, idle and stolen. */
  machine: MachineCpu;
}

export interface PipelineLook {
  /** epochMs() when every snapshot was taken (the modules' metrics arrive later): the measured stretch runs between two looks' atMs. */
  atMs: number;
  captures: ModuleLook[];
  inference: ModuleLook;
  preview?: CpuSnapshot;
  /** This bench's own process's CPU time so far (processCpuMs). */
  benchCpuMs: number;
  machine: MachineCpu;
}

export async function lookAtPipeline(captures: RunningModule[], inference: RunningModule, preview?: RunningModule): Promise<PipelineLook> {
  // Every CPU snapshot at one instant: lookAt takes its module's before it waits for the module's metrics.
  const atMs = epochMs();
  const machine = snapshotMachineCpu();
  const benchCpuMs = processCpuMs(process.pid);
  const previewPid = preview?.process.pid;
  const previewCpu = previewPid === undefined ? undefined : snapshotCpu(previewPid);
  const [inferenceLook, ...captureLooks] = await Promise.all([lookAt(inference), ...captures.map(lookAt)]);
  return { atMs, captures: captureLooks, inference: inferenceLook, ...(previewCpu && { preview: previewCpu }), benchCpuMs, machine };
}

export function usageBetween(before: PipelineLook, after: PipelineLook): PipelineUsage {
  const captures = after.captures.map((capture, index) => ({ before: before.captures[index], after: capture }));
  return {
    wallMs: after.atMs - before.atMs,
    capture: captures.reduce((sum, look) => addCpu(sum, cpuBetween(look.before.cpu, look.after.cpu)), NO_CPU),
    captureGcMs: captures.reduce((sum, look) => sum + look.after.gcMs - look.before.gcMs, 0),
    inference: cpuBetween(before.inference.cpu, after.inference.cpu),
    inferenceGcMs: after.inference.gcMs - before.inference.gcMs,
    // Inference's own decoders where it decodes its cameras itself (0 otherwise).
    framesDecoded: captures.reduce((sum, look) => sum + look.after.framesDecoded - look.before.framesDecoded, after.inference.framesDecoded - before.inference.framesDecoded),
    preview: before.preview && after.preview ? cpuBetween(before.preview, after.preview) : NO_CPU,
    benchMs: after.benchCpuMs - before.benchCpuMs,
    machine: machineCpuBetween(before.machine, after.machine),
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
    preview: addCpu(a.preview, b.preview),
    benchMs: a.benchMs + b.benchMs,
    machine: addMachineCpu(a.machine, b.machine),
  };
}

export const NO_USAGE: PipelineUsage = { wallMs: 0, capture: NO_CPU, captureGcMs: 0, inference: NO_CPU, inferenceGcMs: 0, framesDecoded: 0, preview: NO_CPU, benchMs: 0, machine: NO_MACHINE_CPU };
