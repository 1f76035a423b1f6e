import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Detections } from '@iev/frame-protocol';
import { childPids, isRunning } from '@iev/testing';
import { startPipeline, type ModuleProcess } from './module-process';

const detectionLines = (lines: string[]) => lines.filter((line) => line.startsWith('{"frame"')).map((line) => JSON.parse(line) as Detections);

describe('the pipeline on the demo video: capture → inference → telemetry', () => {
  let dir: string;
  let capture: ModuleProcess;
  let inference: ModuleProcess;
  let telemetry: ModuleProcess;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-'));
    // The module's own preset: the seed's.
    [telemetry, inference, capture] = startPipeline(dir, {
      telemetry: { CONSOLE_FORMAT: 'json' },
      inference: { DETECTION_PRESET: undefined, LOG_SUMMARY_INTERVAL: '2' },
    });
  });

  afterAll(async () => {
    await Promise.all([capture, inference, telemetry].map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers detections of the demo video to the console sink', async () => {
    const received = await telemetry.waitFor((lines) => {
      const found = detectionLines(lines);
      return found.filter((d) => d.boxes.length > 0).length >= 3 ? found : undefined;
    }, 'three frames with text boxes at the sink', 50_000);

    for (const detections of received) {
      expect(detections.frame.sourceId).toBe('camera0');
      expect([detections.width, detections.height]).toEqual([640, 480]);
      expect(detections.modelId).toBe('ch_pp_inf_dynamic@7ceb8792');
      for (const box of detections.boxes) {
        expect(box.points).toHaveLength(4);
        for (const [x, y] of box.points) {
          expect(Number.isInteger(x) && x >= 0 && x <= 640).toBe(true);
          expect(Number.isInteger(y) && y >= 0 && y <= 480).toBe(true);
        }
      }
    }
    const sequences = received.map((d) => d.frame.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    // At info inference sums its frames up every LOG_SUMMARY_INTERVAL; the sample's per-frame line is at debug.
    const summary = await inference.waitFor(
      () => inference.logs().find((log) => /^frames: \d+ in \d+\.\d s \(\d+\.\d fps\), boxes: \d+ \(\d+\.\d a frame\), skipped: \d+, time taken: \d\.\d{3} s a frame$/.test(String(log['msg']))),
      'a summary line',
      10_000,
    );
    expect(summary).toMatchObject({ level: 30 });
    expect(summary['frames']).toBeGreaterThan(0);
    expect(inference.logs().some((log) => String(log['msg']).startsWith('Bounding boxes detected'))).toBe(false);
  });

  it('reports health and Prometheus metrics for every module', async () => {
    for (const module of [capture, inference, telemetry]) {
      const port = await module.metricsPort();
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(`module="${module.name}"`);
    }
    const inferenceMetrics = await (await fetch(`http://127.0.0.1:${await inference.metricsPort()}/metrics`)).text();
    expect(Number(/iev_inference_frames_processed_total\{[^}]*\} (\d+)/.exec(inferenceMetrics)?.[1])).toBeGreaterThan(0);
    // Telemetry keeps up with inference: nothing dropped from its bounded queue.
    const telemetryMetrics = await (await fetch(`http://127.0.0.1:${await telemetry.metricsPort()}/metrics`)).text();
    expect(telemetryMetrics).toMatch(/^iev_telemetry_detections_dropped_total\{[^}]*\} 0$/m);
    // Per-source series carry the source; capture's all do (one source each).
    expect(telemetryMetrics).toMatch(/^iev_telemetry_detections_total\{source_id="camera0",module="telemetry",instance_number="[0-9a-f-]{36}"\} [1-9]\d*$/m);
    const captureMetrics = await (await fetch(`http://127.0.0.1:${await capture.metricsPort()}/metrics`)).text();
    expect(captureMetrics).toMatch(/^iev_capture_frames_published_total\{module="capture",instance_number="[0-9a-f-]{36}",source_id="camera0"\} [1-9]\d*$/m);
  });

  it('serves nothing to the LAN outside a container: metrics and health answer on 127.0.0.1 only', async () => {
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
    if (!lan) return; // a machine without a network has no LAN to serve
    for (const module of [capture, inference, telemetry]) {
      const port = await module.metricsPort();
      expect((await fetch(`http://127.0.0.1:${port}/live`)).status).toBe(200);
      await expect(fetch(`http://${lan}:${port}/live`)).rejects.toThrow();
    }
  });

  it('stops every module cleanly on Ctrl-C, leaving no ffmpeg behind', async () => {
    const decoders = childPids(capture.child.pid as number);
    expect(decoders.length).toBeGreaterThan(0);
    const codes = await Promise.all([capture, inference, telemetry].map((module) => module.stop('SIGINT')));
    expect(codes).toEqual([0, 0, 0]);
    expect(decoders.filter(isRunning)).toEqual([]);
  });
});

describe('the pipeline reading the demo video (default preset)', () => {
  let dir: string;
  let modules: ModuleProcess[];
  let telemetry: ModuleProcess;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-read-'));
    modules = startPipeline(dir, { telemetry: { CONSOLE_FORMAT: 'json' }, inference: { INFERENCE_THREADS: undefined } });
    telemetry = modules[0];
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers the signs' text to the sink, read once and then carried from frame to frame", async () => {
    const normalized = (text: string | undefined) => (text ?? '').toLowerCase().replace(/\s+/g, '');
    const readAlmostAll = (d: Detections) => d.boxes.length > 0 && d.boxes.filter((box) => box.text !== undefined).length >= d.boxes.length * 0.8;
    // Reading catches up: lines are read in the background, so the first frames' boxes come without text, and
    // soon a frame has nearly all of its lines read, some of them carried from earlier frames.
    const received = await telemetry.waitFor((lines) => {
      const found = detectionLines(lines);
      const caughtUp = found.some((d) => readAlmostAll(d) && (d.lines?.carried ?? 0) > 0);
      return caughtUp && found.some((d) => d.boxes.some((box) => normalized(box.text) === 'caferoma')) ? found : undefined;
    }, 'the cafe sign read, and a frame with most of its lines read and carried', 90_000);

    for (const detections of received) {
      expect(detections.modelId).toMatch(/^ch_PP-OCRv4_det_infer@/);
      expect(detections.lines).toBeDefined();
      // A box has its text once its line was read (never below the minimum score), or none yet.
      for (const box of detections.boxes) if (box.text !== undefined) expect(box.textScore).toBeGreaterThanOrEqual(0.5);
    }
  });
});
