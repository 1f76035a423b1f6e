import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { metricSums } from '@iev/testing';
import { DEMO_VIDEO, ModuleProcess, startPipelineEdgeHub } from './module-process';

const detectionLines = (lines: string[]) => lines.filter((line) => line.startsWith('{"frame"')).map((line) => JSON.parse(line) as Detections);
const settingsOf = (reported: Record<string, unknown>) => (reported['settings'] ?? {}) as Record<string, unknown>;
const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as { version?: number; status?: string; error?: string };

type Rectangle = [x: number, y: number, width: number, height: number];
/** The demo's pharmacy sign and bus board, where its script draws them (tools/demo-video/make-demo-video.sh), in pixels. */
const PHARMACY: Rectangle = [30, 366, 210, 62];
const BUS_BOARD: Rectangle = [360, 150, 250, 120];
const centredIn =
  ([x, y, width, height]: Rectangle) =>
  ({ points }: DetectedBox) => {
    const [cx, cy] = [points.reduce((sum, [px]) => sum + px, 0) / 4, points.reduce((sum, [, py]) => sum + py, 0) / 4];
    return cx >= x && cx <= x + width && cy >= y && cy <= y + height;
  };

/**
 * Inference decoding the demo itself as an IoT Edge module, its camera's entry ignoring the pharmacy sign; the twin
 * moves the region live. Telemetry on the console shows what was published.
 */
describe('ignore regions: a CAPTURE_SOURCES entry, and the module twin live', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let inference: ModuleProcess;
  let telemetry: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-ignore-'));
    const detections = `ipc://${join(dir, 'detections')}`;
    hub = await startPipelineEdgeHub(dir);
    telemetry = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: detections, CONSOLE_FORMAT: 'json', METRICS_PORT: '0' });
    inference = new ModuleProcess('inference', {
      ...hub.moduleEnv('inference'),
      CAPTURE_SOURCES: JSON.stringify([{ CAMERA_PATH: DEMO_VIDEO, CAPTURE_FPS: 5, IGNORE_REGIONS: [PHARMACY] }]),
      DETECTIONS_BIND: detections,
      DETECTION_PRESET: 'default',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
    });
  });

  afterAll(async () => {
    await Promise.all([inference, telemetry].map((module) => module.stop('SIGKILL')));
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Detections published from now on, once `count` frames with text have come. */
  const nextDetections = async (count: number, timeoutMs = 60_000) => {
    const start = detectionLines(telemetry.stdout).length;
    return telemetry.waitFor(
      (lines) => {
        const found = detectionLines(lines).slice(start);
        return found.filter((d) => d.boxes.length > 0).length >= count ? found : undefined;
      },
      `${count} frames with text at the sink`,
      timeoutMs,
    );
  };

  it("publishes no box of the sign its camera's entry ignores, counts them, and reports the regions in force", async () => {
    const published = await nextDetections(10, 90_000);
    const boxes = published.flatMap((d) => d.boxes);
    expect(boxes.filter(centredIn(PHARMACY))).toEqual([]);
    expect(boxes.filter(centredIn(BUS_BOARD)).length).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${await inference.metricsPort()}/metrics`)).text();
    // Two lines a frame (the sign's name and hours).
    expect(metricSums(metrics).get('iev_inference_boxes_ignored_total')).toBeGreaterThanOrEqual(10);
    const reported = await hub.waitForReported('inference', (r) => lastDesiredOf(r).status !== undefined, 30_000);
    expect(settingsOf(reported)['ignoreRegions']).toBe(JSON.stringify({ camera0: [PHARMACY] }));
  }, 120_000);

  it('moves the region when the twin sets ignoreRegions, and back to the entry when it is removed', async () => {
    await hub.patchDesired('inference', { ignoreRegions: JSON.stringify({ '*': [BUS_BOARD] }) });
    await hub.waitForReported('inference', (r) => settingsOf(r)['ignoreRegions'] === JSON.stringify({ '*': [BUS_BOARD] }), 20_000);
    // Frames in flight when it applied may carry the old regions; the ones after them the new.
    const moved = (await nextDetections(8)).slice(3).flatMap((d) => d.boxes);
    expect(moved.filter(centredIn(BUS_BOARD))).toEqual([]);
    expect(moved.filter(centredIn(PHARMACY)).length).toBeGreaterThan(0);

    await hub.patchDesired('inference', { ignoreRegions: null });
    await hub.waitForReported('inference', (r) => settingsOf(r)['ignoreRegions'] === JSON.stringify({ camera0: [PHARMACY] }), 20_000);
    const back = (await nextDetections(8)).slice(3).flatMap((d) => d.boxes);
    expect(back.filter(centredIn(PHARMACY))).toEqual([]);
  }, 120_000);

  it('rejects a bad region from the twin naming the camera, the region and why, and keeps the regions in force', async () => {
    await hub.patchDesired('inference', { ignoreRegions: JSON.stringify({ camera0: [PHARMACY, [0.5, 0.5, 0.6, 0.1]] }) });
    const reported = await hub.waitForReported('inference', (r) => lastDesiredOf(r).status === 'rejected', 20_000);
    expect(lastDesiredOf(reported).error).toBe(
      'ignoreRegions camera "camera0" region 1 reaches past the frame: x + width and y + height must be at most 1 in fractions, got [0.5,0.5,0.6,0.1] (got "{\\"camera0\\":[[30,366,210,62],[0.5,0.5,0.6,0.1]]}")',
    );
    expect(settingsOf(reported)['ignoreRegions']).toBe(JSON.stringify({ camera0: [PHARMACY] }));
  }, 60_000);
});
