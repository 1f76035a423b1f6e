import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from '@iev/testing';
import { DetectionsPublisher } from './detections-publisher';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

/** PREVIEW_SILENCE_MS here: short, so the spec takes seconds, yet three of the frames' interval (one a second with no one watching). */
const LIMIT_MS = 3000;

interface PreviewHealthReport {
  healthy: boolean;
  status?: string;
  framesSilentForMs?: number;
  detectionsSilentForMs?: number;
  frames?: { dispatched: number };
  detections?: { dispatched: number };
}

type HealthAnswer = { status: number; body: PreviewHealthReport };

/**
 * The built preview's /health with a real capture on the demo video (frames) and a detections publisher the spec
 * starts and stops (of another source: detections of camera0 that are not its frames' would be taken for an old run's).
 */
describe('preview /health', () => {
  let dir: string;
  const stopping: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-preview-health-'));
  });

  afterEach(async () => {
    for (const stop of stopping.splice(0).reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startCapture = (framesEndpoint: string) => {
    const capture = new ModuleProcess('capture', { CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: framesEndpoint, METRICS_PORT: '0' });
    stopping.push(() => capture.stop('SIGKILL'));
    return capture;
  };
  const startPublisher = (endpoint: string) => {
    const publisher = new DetectionsPublisher(endpoint, 'door');
    stopping.push(() => publisher.close());
    return publisher;
  };

  it('is healthy while frames and detections come, 503 naming which is silent past PREVIEW_SILENCE_MS, healthy again when they return', async () => {
    const framesEndpoint = `ipc://${join(dir, 'frames')}`;
    const detectionsEndpoint = `ipc://${join(dir, 'detections')}`;
    const capture = startCapture(framesEndpoint);
    const publisher = startPublisher(detectionsEndpoint);
    const preview = new ModuleProcess('preview', {
      FRAMES_CONNECT: framesEndpoint,
      DETECTIONS_CONNECT: detectionsEndpoint,
      PREVIEW_PORT: String(await freePort()),
      PREVIEW_SILENCE_MS: String(LIMIT_MS),
      METRICS_PORT: '0',
    });
    stopping.push(() => preview.stop('SIGKILL'));
    const port = await preview.metricsPort();
    const health = async (): Promise<HealthAnswer> => {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: response.status, body: (await response.json()) as PreviewHealthReport };
    };
    let last: HealthAnswer | undefined;
    const healthWhen = (until: (answer: HealthAnswer) => boolean, what: string) =>
      eventually(
        async () => {
          last = await health();
          return until(last) ? last : undefined;
        },
        () => `${what}; last /health: ${JSON.stringify(last)}`,
        { timeoutMs: 30_000, intervalMs: 100 },
      );

    // Both arrived, not only a 200 from before the limit since start: capture's first frame may take seconds.
    await healthWhen(({ status, body }) => status === 200 && (body.frames?.dispatched ?? 0) > 0 && (body.detections?.dispatched ?? 0) > 0, 'frames and detections to arrive');
    // A start slower than the short limit is said too (silence counts from start): only what follows is the spec's.
    const logsSince = preview.logs().length;
    /** The levels of the lines that begin (warn) and end (info) a silence of `what`, in order. */
    const episodes = (what: string) =>
      preview
        .logs()
        .slice(logsSince)
        .filter((log) => String(log['msg']).startsWith(`no ${what} for `) || String(log['msg']).startsWith(`${what} again after `))
        .map((log) => (log['level'] === 40 && String(log['msg']).startsWith('no ') ? 'began' : log['level'] === 30 ? 'ended' : `level ${log['level']}`));

    await publisher.close();
    const noDetections = await healthWhen(({ status, body }) => status === 503 && body.detectionsSilentForMs !== undefined, 'the detections silence to be told');
    expect(noDetections.body).toMatchObject({ healthy: false, status: 'degraded' });
    expect(noDetections.body.detectionsSilentForMs).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(noDetections.body).not.toHaveProperty('framesSilentForMs');
    startPublisher(detectionsEndpoint);
    await healthWhen(({ status }) => status === 200, 'health once detections return');

    await capture.stop('SIGKILL');
    const noFrames = await healthWhen(({ status, body }) => status === 503 && body.framesSilentForMs !== undefined, 'the frames silence to be told');
    expect(noFrames.body.framesSilentForMs).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(noFrames.body).not.toHaveProperty('detectionsSilentForMs');
    expect((await fetch(`http://127.0.0.1:${port}/live`)).status).toBe(200);
    startCapture(framesEndpoint);
    await healthWhen(({ status }) => status === 200, 'health once frames return');

    expect(episodes('detections')).toEqual(['began', 'ended']);
    // Each silence said once as it begins and once as it ends: a restarted capture on a loaded machine may pause
    // past this short limit between its first frames, a silence of its own.
    await preview.waitFor(() => episodes('frames').at(-1) === 'ended' || undefined, 'the end of the frames silence to be said');
    const frames = episodes('frames');
    expect(frames).toEqual(frames.map((_, index) => (index % 2 === 0 ? 'began' : 'ended')));
  }, 90_000);
});
