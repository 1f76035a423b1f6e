import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceReport } from '@iev/service-runtime';
import { eventually } from '@iev/testing';
import { DEMO_VIDEO, latestPictureSizes, ModuleProcess, startPreview } from './module-process';

const CAMERAS = ['camera0', 'camera1', 'camera2'];
/** Each camera's rate: the three together (12 fps at 320x240) stay well inside what the model takes, so a camera's rate is its own. */
const CAMERA_FPS = 4;
/** The window of the fps in /health (RateMeter's). */
const RATE_WINDOW_MS = 10_000;

/** Each source's value of a counter labelled source_id. */
function perSource(metrics: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const [, sourceId, value] of metrics.matchAll(new RegExp(`^${name}\\{[^}]*source_id="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) values.set(sourceId, Number(value));
  return values;
}

describe('three cameras, one capture each, into one inference', () => {
  let dir: string;
  let captures: ModuleProcess[];
  let inference: ModuleProcess;
  let preview: ModuleProcess;
  let port: number;
  let previewUrl: string;

  const startCapture = (index: number) =>
    new ModuleProcess('capture', {
      CAMERA_PATH: DEMO_VIDEO,
      SOURCE_ID: CAMERAS[index],
      FRAMES_BIND: `ipc://${join(dir, `frames${index}`)}`,
      CAPTURE_FPS: String(CAMERA_FPS),
      CAPTURE_WIDTH: '320',
      CAPTURE_HEIGHT: '240',
      METRICS_PORT: '0',
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { sources: SourceReport[]; transport: { endpoints: Array<{ endpoint: string; status: string }> } };
  const processed = async () => perSource(await metrics(), 'iev_inference_frames_processed_total');
  /** Each camera's frames per second through the model over the next 10 s, as inference counts them (its /health fps). */
  async function ratesOver(): Promise<Map<string, number>> {
    await sleep(RATE_WINDOW_MS + 500);
    const { sources } = await health();
    return new Map(CAMERAS.map((camera) => [camera, sources.find((source) => source.sourceId === camera)?.fps ?? 0]));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-sources-'));
    inference = new ModuleProcess('inference', {
      FRAMES_CONNECT: CAMERAS.map((_, index) => `ipc://${join(dir, `frames${index}`)}`).join(','),
      DETECTIONS_BIND: `ipc://${join(dir, 'detections')}`,
      DETECTION_PRESET: 'default',
      RECOGNITION: 'off',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
    });
    // Nobody watches: it takes a frame a second of each camera, enough for each camera's latest.jpg.
    ({ preview, url: previewUrl } = await startPreview(
      CAMERAS.map((_, index) => `ipc://${join(dir, `frames${index}`)}`),
      `ipc://${join(dir, 'detections')}`,
      CAMERAS,
    ));
    captures = CAMERAS.map((_, index) => startCapture(index));
    port = await inference.metricsPort();
  });

  afterAll(async () => {
    await Promise.all([...captures, inference, preview].map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every camera at its own rate, each on its own labels', async () => {
    await eventually(async () => {
      const counts = await processed();
      return CAMERAS.every((camera) => (counts.get(camera) ?? 0) >= 10) ? counts : undefined;
    }, 'ten frames of every camera through the model', { timeoutMs: 50_000, intervalMs: 500 });
    const baseline = await ratesOver();
    for (const camera of CAMERAS) expect(baseline.get(camera)).toBeGreaterThan(CAMERA_FPS * 0.8);

    const { sources, transport } = await health();
    expect(sources.map((source) => source.sourceId).sort()).toEqual(CAMERAS);
    for (const source of sources) {
      expect(source).toMatchObject({ stale: false, outages: 0 });
      expect(source.fps).toBeGreaterThan(CAMERA_FPS * 0.8);
      expect(source.latencyMs).toBeGreaterThan(0);
    }
    expect(transport.endpoints.map((link) => link.status)).toEqual(['connected', 'connected', 'connected']);
  }, 90_000);

  it('shows every camera in the preview, each with its own picture and detections', async () => {
    const shown = await eventually(async () => {
      const { sources } = (await (await fetch(`${previewUrl}/api/sources`)).json()) as { sources: Array<{ sourceId: string; waiting: boolean; detectionFps: number }> };
      return sources.length === CAMERAS.length && sources.every((source) => !source.waiting && source.detectionFps > 0) ? sources : undefined;
    }, 'a frame and detections of every camera at the preview', { timeoutMs: 20_000, intervalMs: 500 });
    expect(shown.map((source) => source.sourceId).sort()).toEqual(CAMERAS);
    expect(await latestPictureSizes(previewUrl, CAMERAS)).toEqual(CAMERAS.map(() => [320, 240]));
  }, 30_000);

  it('keeps the other two at their rate while one capture is gone, and shows that one stale with its outage counted', async () => {
    await captures[1].stop('SIGKILL');
    const whileGone = await ratesOver();
    // Against the cameras' own rate, as the baseline was checked: a baseline that dipped on a busy machine (3.6 fps,
    // then 4.0 with one camera less) is no measure of the others slowing down.
    for (const camera of ['camera0', 'camera2']) {
      expect(whileGone.get(camera)).toBeGreaterThan(CAMERA_FPS * 0.8);
      expect(whileGone.get(camera)).toBeLessThanOrEqual(CAMERA_FPS * 1.1);
    }
    expect(whileGone.get('camera1')).toBe(0);

    const { sources, transport } = await health();
    expect(sources.find((source) => source.sourceId === 'camera1')).toMatchObject({ stale: true, outages: 1 });
    for (const camera of ['camera0', 'camera2']) expect(sources.find((source) => source.sourceId === camera)).toMatchObject({ stale: false, outages: 0 });
    expect(transport.endpoints[1].status).not.toBe('connected');
    const outages = perSource(await metrics(), 'iev_inference_source_outages_total');
    expect(Object.fromEntries(outages)).toEqual({ camera1: 1 });
    // The preview goes on showing the other two; camera1 keeps its last picture.
    const sequences = async () => {
      const { sources } = (await (await fetch(`${previewUrl}/api/sources`)).json()) as { sources: Array<{ sourceId: string; sequence: number }> };
      return new Map(sources.map((source) => [source.sourceId, source.sequence]));
    };
    const before = await sequences();
    await sleep(2500);
    const after = await sequences();
    for (const camera of ['camera0', 'camera2']) expect(after.get(camera)).toBeGreaterThan(before.get(camera) as number);
    expect(after.get('camera1')).toBe(before.get('camera1'));
  }, 60_000);

  it('takes the camera back when its capture returns', async () => {
    const before = (await processed()).get('camera1') as number;
    captures[1] = startCapture(1);
    await eventually(async () => (((await processed()).get('camera1') ?? 0) >= before + 10 ? true : undefined), 'ten more frames of camera1', {
      timeoutMs: 40_000,
      intervalMs: 500,
    });
    const { sources } = await health();
    expect(sources.find((source) => source.sourceId === 'camera1')).toMatchObject({ stale: false, outages: 1 });
    expect(inference.child.exitCode).toBeNull();
  }, 60_000);
});
