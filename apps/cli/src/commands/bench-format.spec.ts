import type { BenchReport } from './bench';
import { describeStreams, formatBenchRows } from './bench-format';

const share = (corePercent: number, msPerFrame: number) => ({ corePercent, msPerFrame });
const stage = { medianMs: 1, p90Ms: 2, count: 10 };

const report: BenchReport = {
  backend: 'onnxruntime',
  preset: 'seed',
  inputSize: '960x960',
  capture: 'modules',
  bareFps: 10,
  pipelineFps: 9,
  ratio: 0.9,
  bareStreamsFps: 12,
  streamsRatio: 0.75,
  stages: { decode: stage, transport: stage, preprocess: stage, inference: stage, postprocess: stage, publish: stage },
  latencyMs: { p50: 210, p90: 260, p99: 340.5 },
  modelMedianMs: 185,
  latencyRatio: 1.841,
  cpu: {
    decoder: share(3.1, 3.4),
    capture: { total: share(9.2, 10.1), gcPauses: share(1.5, 1.6), main: share(8, 8.8), unnamed: share(1.2, 1.3) },
    inference: { total: share(190, 209), gcPauses: share(4, 4.4), main: share(12, 13.2), workers: share(175, 192.3), rest: share(3, 3.3) },
    framesDecoded: 600,
    framesConsumed: 180,
    captureMsPerDecodedFrame: 1.93,
    captureMsPerConsumedFrame: 6.42,
    machine: { bench: share(1.2, 1.32), otherProcesses: share(2.5, 2.75), idle: share(1.5, 1.65), stolen: share(0.3, 0.33) },
  },
  framesMeasured: 180,
  streams: 2,
  threads: 1,
};

/** A reading preset's figures. */
const recognition = {
  fpsWith: 9,
  fpsWithout: 10.5,
  ratio: 0.857,
  linesReadPerFrame: 0.3,
  linesCarriedPerFrame: 14.6,
  textAfterMs: { p50: 160, p90: 900, count: 30 },
  latencyMsWithout: { p50: 200, p90: 240, p99: 300 },
  streamsRatioWithout: 0.875,
};

describe('formatBenchRows', () => {
  it('names the streams as the inference module does: on the CPU with their threads, on TensorRT one on the GPU', () => {
    expect(describeStreams({ backend: 'onnxruntime', streams: 1, threads: 0 })).toBe('1 stream, one thread per core');
    expect(describeStreams({ backend: 'tensorrt', streams: 1, threads: 0 })).toBe('1 stream on the GPU');
  });

  it('prints latency against the model, and CPU by process and thread group with only the groups seen', () => {
    const table = formatBenchRows([report, { backend: 'tensorrt', skipped: 'no GPU here' }]);
    expect(table).toContain('onnxruntime: preset seed, model input 960x960, 2 streams of 1 thread each, ');
    expect(table).toContain('latency      p50 210, p90 260, p99 341 ms');
    expect(table).toMatch(/model median\s+185\.00 ms/);
    expect(table).toMatch(/p99 \/ model\s+1\.841\s+\(target <= 2\)/);
    expect(table).toMatch(/decoder \(capture's ffmpeg \/ gst-launch\)\s+3\.1\s+3\.40/);
    expect(table).toMatch(/ {2}worker threads \(ONNX Runtime\)\s+175\.0\s+192\.30/);
    expect(table).toMatch(/ {2}GC pauses on the main thread \(wall time\)\s+4\.0\s+4\.40/);
    expect(table).toMatch(/^this bench \(its detections listener\)\s+1\.2\s+1\.32$/m);
    expect(table).toMatch(/^other processes and interrupts\s+2\.5\s+2\.75$/m);
    expect(table).toMatch(/^idle\s+1\.5\s+1\.65$/m);
    expect(table).toMatch(/^stolen by the hypervisor\s+0\.3\s+0\.33$/m);
    // No preview ran: no row for it; one that ran has its own.
    expect(table).not.toMatch(/^preview\s/m);
    expect(formatBenchRows([{ ...report, cpu: { ...report.cpu, preview: share(5.5, 6.05) } }])).toMatch(/^preview\s+5\.5\s+6\.05$/m);
    // capture has unnamed threads (Node.js 20) and no workers: one row each way.
    expect(table.match(/unnamed threads/g)).toHaveLength(1);
    expect(table.match(/worker threads/g)).toHaveLength(1);
    expect(table).toContain('capture + decoder: 1.93 ms per decoded frame (600), 6.42 ms per consumed frame (180)');
    expect(table).toContain('tensorrt: skipped (no GPU here)');
  });

  it('says where the cameras were decoded in process, with their decoders under inference and no capture rows', () => {
    const table = formatBenchRows([{ ...report, capture: 'in-process' }]);
    expect(table).toContain('2 streams of 1 thread each, cameras decoded by inference itself, ');
    expect(table).toMatch(/decoders \(inference's ffmpeg\)\s+3\.1\s+3\.40/);
    expect(table).not.toMatch(/^capture/m);
  });

  it('prints each source, the aggregate against the bare model and the fairness when there are several cameras', () => {
    const sources = [
      { id: 'camera0', fps: 2.4, latencyMs: { p50: 400, p90: 480, p99: 520 }, skipped: 0 },
      { id: 'camera1', fps: 2.2, latencyMs: { p50: 410, p90: 490, p99: 560 }, skipped: 3 },
    ];
    const table = formatBenchRows([{ ...report, sources, aggregateFps: 4.6, aggregateRatio: 0.92, sourceFairness: 0.917 }]);
    expect(table).toMatch(/camera1 +2\.20 +p50 410, p90 490, p99 560 ms +3/);
    expect(table).toMatch(/aggregate fps +4\.60/);
    expect(table).toMatch(/aggregate ratio +0\.920 +\(aggregate \/ bare run in the pipeline's configuration; target >= 0\.9\)/);
    expect(table).toMatch(/fairness +0\.917 +\(slowest source's fps \/ fastest's; target >= 0\.8\)/);
    expect(table).toMatch(/^capture ×2 +9\.2 +10\.10$/m);
    expect(table).toMatch(/^decoders of the 2 captures +3\.1 +3\.40$/m);
    expect(formatBenchRows([report])).not.toContain('fairness');
  });

  it('prints the streams ratio with RECOGNITION=off beside the reading one, for a preset that reads', () => {
    const table = formatBenchRows([{ ...report, recognition }]);
    expect(table).toMatch(/streams ratio +0\.750 +\(pipeline fps \/ bare streams: the cost of our code\)\n +0\.875 +with RECOGNITION=off/);
    expect(formatBenchRows([report])).not.toContain('with RECOGNITION=off (the reader');
  });

  it("prints each streams ratio's spread over the rounds where it was measured round by round", () => {
    const table = formatBenchRows([{ ...report, streamsRatioRounds: [0.76, 0.71, 0.78], recognition: { ...recognition, streamsRatioWithoutRounds: [0.9, 0.86, 0.871] } }]);
    expect(table).toMatch(/streams ratio +0\.750 +\(pipeline fps \/ bare streams: the cost of our code\); rounds 0\.710-0\.780\n/);
    expect(table).toMatch(/0\.875 +with RECOGNITION=off \(the reader's model is not in the bare streams\); rounds 0\.860-0\.900\n/);
    expect(formatBenchRows([report])).not.toContain('rounds');
  });
});
