import { describeCpuParallelism } from '@iev/detection-pipeline';
import type { BenchReport, BenchRow } from './bench';
import type { CpuShare, ModuleCpu } from './bench-figures';
import type { ThreadGroup } from './process-cpu';

export function formatBenchRows(rows: BenchRow[]): string {
  return rows.map((row) => ('skipped' in row ? `${row.backend}: skipped (${row.skipped})` : formatBench(row))).join('\n\n');
}

/** The pipeline's streams as the inference module logs them: TensorRT runs one on its GPU. */
export function describeStreams({ backend, streams, threads }: Pick<BenchReport, 'backend' | 'streams' | 'threads'>): string {
  return backend === 'tensorrt' ? '1 stream on the GPU' : describeCpuParallelism(streams, threads);
}

export function formatBench(report: BenchReport): string {
  const lines = [
    `${report.backend}: preset ${report.preset}, model input ${report.inputSize}, ${describeStreams(report)}${report.capture === 'in-process' ? ', cameras decoded by inference itself' : ''}, ${report.framesMeasured} frames measured`,
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
      `new text after  p50 ${r.textAfterMs.p50} ms, p90 ${r.textAfterMs.p90} ms (${r.textAfterMs.count} new lines: first frame → first read shown)`,
    );
  }
  if (report.preview) {
    const p = report.preview;
    const c = p.corePercent;
    lines.push(
      `without preview ${p.fpsWithout.toFixed(2).padStart(7)}   (preview paused; pipeline fps above: preview taking frames, a client on the live stream the page draws); ratio ${p.ratio.toFixed(3)} (target >= 0.97)`,
      `preview CPU  ${c.preview.toFixed(1).padStart(9)}%   of a core; watched / paused: capture ${c.captureWith.toFixed(1)} / ${c.captureWithout.toFixed(1)} %, inference ${c.inferenceWith.toFixed(1)} / ${c.inferenceWithout.toFixed(1)} %`,
    );
  }
  if (report.bareStreamsFps !== undefined && report.streamsRatio !== undefined) {
    lines.push(
      `bare streams ${report.bareStreamsFps.toFixed(2).padStart(10)}   (bare run fps, ${report.streams} sessions side by side like the pipeline)`,
      `streams ratio${report.streamsRatio.toFixed(3).padStart(10)}   (pipeline fps / bare streams: the cost of our code)${byRound(report.streamsRatioRounds)}`,
    );
    const withoutReading = report.recognition?.streamsRatioWithout;
    if (withoutReading !== undefined) {
      lines.push(`              ${withoutReading.toFixed(3).padStart(10)}   with RECOGNITION=off (the reader's model is not in the bare streams)${byRound(report.recognition?.streamsRatioWithoutRounds)}`);
    }
  }
  const latency = (l: BenchReport['latencyMs']) => `p50 ${l.p50.toFixed(0)}, p90 ${l.p90.toFixed(0)}, p99 ${l.p99.toFixed(0)} ms`;
  if (report.sources && report.aggregateFps !== undefined && report.aggregateRatio !== undefined && report.sourceFairness !== undefined) {
    lines.push(
      `source        fps   latency (capture → published)     skipped`,
      ...report.sources.map((source) => `${source.id.padEnd(10)} ${source.fps.toFixed(2).padStart(6)}   ${latency(source.latencyMs).padEnd(32)} ${String(source.skipped).padStart(7)}`),
      `aggregate fps${report.aggregateFps.toFixed(2).padStart(10)}   (every source's frames; pipeline fps above)`,
      `aggregate ratio${report.aggregateRatio.toFixed(3).padStart(8)}   (aggregate / bare run in the pipeline's configuration; target >= 0.9)`,
      `fairness     ${report.sourceFairness.toFixed(3).padStart(10)}   (slowest source's fps / fastest's; target >= 0.8)`,
    );
  }
  lines.push(
    `latency      ${latency(report.latencyMs)}   (capture time → detections published)`,
    ...(report.recognition ? [`              ${latency(report.recognition.latencyMsWithout)} with RECOGNITION=off`] : []),
    `model median ${report.modelMedianMs.toFixed(2).padStart(10)} ms   (bare session.run in the pipeline's configuration)`,
    `p99 / model  ${report.latencyRatio.toFixed(3).padStart(10)}   (target <= 2)`,
    ...formatCpu(report.cpu, report.capture === 'in-process' ? 0 : (report.sources?.length ?? 1)),
  );
  return lines.join('\n');
}

/** A ratio's spread over the rounds, as `; rounds 0.81-0.88`. */
function byRound(ratios: readonly number[] | undefined): string {
  return ratios && ratios.length > 0 ? `; rounds ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}` : '';
}

const GROUP_LABELS: Record<ThreadGroup, string> = {
  main: 'main thread',
  workers: 'worker threads (ONNX Runtime)',
  rest: 'other threads (libuv, V8, ZeroMQ)',
  unnamed: 'unnamed threads (Node.js 20 names none)',
};

/** `captures` > 1: capture's rows are every capture's added up; 0: the cameras were decoded in process, no capture rows. */
function formatCpu(cpu: BenchReport['cpu'], captures: number): string[] {
  const row = (label: string, share: CpuShare) => `${label.padEnd(42)} ${share.corePercent.toFixed(1).padStart(6)} ${share.msPerFrame.toFixed(2).padStart(10)}`;
  const module = (name: string, figures: ModuleCpu) => [
    row(name, figures.total),
    ...(Object.keys(GROUP_LABELS) as ThreadGroup[]).flatMap((group) => {
      const share = figures[group];
      return share ? [row(`  ${GROUP_LABELS[group]}`, share)] : [];
    }),
    row('  GC pauses on the main thread (wall time)', figures.gcPauses),
  ];
  return [
    `cpu while measured                       % of a core  ms/frame`,
    row(captures === 0 ? "decoders (inference's ffmpeg)" : captures > 1 ? `decoders of the ${captures} captures` : "decoder (capture's ffmpeg / gst-launch)", cpu.decoder),
    ...(captures === 0 ? [] : module(captures > 1 ? `capture ×${captures}` : 'capture', cpu.capture)),
    ...module('inference', cpu.inference),
    ...(cpu.preview ? [row('preview', cpu.preview)] : []),
    row('this bench (its detections listener)', cpu.machine.bench),
    row('other processes and interrupts', cpu.machine.otherProcesses),
    row('idle', cpu.machine.idle),
    row('stolen by the hypervisor', cpu.machine.stolen),
    ...(captures === 0
      ? []
      : [`capture + decoder: ${cpu.captureMsPerDecodedFrame.toFixed(2)} ms per decoded frame (${cpu.framesDecoded}), ${cpu.captureMsPerConsumedFrame.toFixed(2)} ms per consumed frame (${cpu.framesConsumed})`]),
  ];
}
