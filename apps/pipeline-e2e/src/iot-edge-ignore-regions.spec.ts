import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import type { DetectedBox, Detections } from '@iev/frame-protocol';
import { metricSums } from '@iev/testing';
import { eventually } from '@iev/testing';
import { DEMO_VIDEO, ModuleProcess, startPipelineEdgeHub, startPreview } from './module-process';

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
/** A rectangle's corners, as the preview gives a camera's regions. */
const cornersOf = ([x, y, width, height]: Rectangle) => [[x, y], [x + width, y], [x + width, y + height], [x, y + height]];

/**
 * Inference decoding the demo itself as an IoT Edge module, its camera's entry ignoring the pharmacy sign; the twin
 * moves the region live. Telemetry on the console shows what was published.
 */
describe('ignore regions: a CAPTURE_SOURCES entry, and the module twin live', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let inference: ModuleProcess;
  let telemetry: ModuleProcess;
  let preview: { preview: ModuleProcess; url: string } | undefined;

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
    await Promise.all([inference, telemetry, preview?.preview].map((module) => module?.stop('SIGKILL')));
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

  /** camera0 on the preview's /api/sources once it shows these regions and, with `ignoring`, boxes left out in them. */
  const previewShows = (regions: number[][][], ignoring = false) =>
    eventually(
      async () => {
        type Shown = { sources: { sourceId: string; regions: number[][][]; ignored: number }[] };
        // Refused until the preview listens.
        const shown = (await fetch(`${preview?.url}/api/sources`).then((response) => response.json(), () => undefined)) as Shown | undefined;
        const camera = shown?.sources.find(({ sourceId }) => sourceId === 'camera0');
        return camera && JSON.stringify(camera.regions) === JSON.stringify(regions) && (!ignoring || camera.ignored > 0) ? camera : undefined;
      },
      `the preview showing camera0's regions ${JSON.stringify(regions)}${ignoring ? ' and boxes ignored in them' : ''}`,
      { timeoutMs: 30_000, intervalMs: 250 },
    );

  it("tells a preview started after it the regions it applies, the entry's, and each frame's boxes left out", async () => {
    preview = await startPreview([`ipc://${join(dir, 'no-frames')}`], `ipc://${join(dir, 'detections')}`, ['camera0']);
    await previewShows([cornersOf(PHARMACY)], true);
  }, 90_000);

  it('moves the region when the twin sets ignoreRegions, and back to the entry when it is removed', async () => {
    await hub.patchDesired('inference', { ignoreRegions: JSON.stringify({ '*': [BUS_BOARD] }) });
    await hub.waitForReported('inference', (r) => settingsOf(r)['ignoreRegions'] === JSON.stringify({ '*': [BUS_BOARD] }), 20_000);
    // Frames in flight when it applied may carry the old regions; the ones after them the new.
    const moved = (await nextDetections(8)).slice(3).flatMap((d) => d.boxes);
    expect(moved.filter(centredIn(BUS_BOARD))).toEqual([]);
    expect(moved.filter(centredIn(PHARMACY)).length).toBeGreaterThan(0);
    // The preview learns the twin's regions as inference applies them.
    await previewShows([cornersOf(BUS_BOARD)]);

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
