import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DETECTIONS_TOPIC } from '@iev/frame-protocol';
import type { SourceReport } from '@iev/service-runtime';
import { eventually } from '@iev/testing';
import { Subscriber } from 'zeromq';
import { DEMO_VIDEO, ModuleProcess } from './module-process';

const CAMERAS = ['camera0', 'camera1', 'camera2', 'camera3', 'camera4', 'camera5'];
/** How long inference runs slowly: over two of each camera's gaps between frames done, as it takes them. */
const SLOW_FOR_MS = 24_000;
/**
 * Inference is stopped STOP_MS, then runs until it has published one frame's detections (RUN_MS at most), and so on:
 * one frame done a pulse at most, whatever the CPU, so the six cameras take turns at the model over 8 s apart each.
 * A pulse stays under the two seconds that would make it inference's own silence, which is not its cameras'
 * (SourceActivity).
 */
const STOP_MS = 1400;
const RUN_MS = 300;

describe('inference too slow for its cameras', () => {
  let dir: string;
  let inference: ModuleProcess;
  let port: number;
  let detections: Subscriber;
  /** Called at each frame's detections inference publishes. */
  let onPublished = () => undefined as void;

  /** Each camera's activity; none while the model loads. */
  const sourcesNow = async () => ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { sources?: SourceReport[] }).sources ?? [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-slow-'));
    // Decoded in inference itself (each frame asked for as its handler settles, as a capture module is asked): the
    // decoders are other processes, which run on while inference is stopped, as capture modules would.
    inference = new ModuleProcess('inference', {
      CAPTURE_SOURCES: JSON.stringify(CAMERAS.map((sourceId) => ({ SOURCE_ID: sourceId, CAMERA_PATH: DEMO_VIDEO, CAPTURE_FPS: 4, CAPTURE_WIDTH: 320, CAPTURE_HEIGHT: 240 }))),
      FRAMES_CONNECT: undefined,
      DETECTIONS_BIND: `ipc://${join(dir, 'detections')}`,
      DETECTION_PRESET: 'default',
      // One frame a model run: a pulse that ends at the first frame's detections ends at the only one.
      INFERENCE_BATCH: '1',
      RECOGNITION: 'off',
      INFERENCE_STREAMS: '1',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
    });
    port = await inference.metricsPort();
    detections = new Subscriber({ linger: 0 });
    detections.connect(`ipc://${join(dir, 'detections')}`);
    // Its detections alone: it announces its cameras on the same socket every second (SOURCES_TOPIC).
    detections.subscribe(DETECTIONS_TOPIC);
    void (async () => {
      for await (const _message of detections) onPublished();
    })().catch(() => undefined);
  });

  afterAll(async () => {
    detections?.close();
    inference.child.kill('SIGCONT');
    await inference.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('blames none of them: a camera waiting its turn at the model is not asked for frames, so its silence then is not an outage', async () => {
    await eventually(async () => {
      const sources = await sourcesNow();
      return sources.length === CAMERAS.length && sources.every((source) => source.frames > 0) ? true : undefined;
    }, 'a frame of every camera through the model', { timeoutMs: 60_000, intervalMs: 500 });
    const framesBefore = (await sourcesNow()).reduce((sum, source) => sum + source.frames, 0);

    const until = Date.now() + SLOW_FOR_MS;
    while (Date.now() < until) {
      inference.child.kill('SIGSTOP');
      await sleep(STOP_MS);
      const published = new Promise<void>((resolve) => (onPublished = resolve));
      inference.child.kill('SIGCONT');
      await Promise.race([published, sleep(RUN_MS)]);
    }
    onPublished = () => undefined;
    const sources = await sourcesNow();

    // The case itself: each camera's frames done over 5 s apart on average, where outages were counted before.
    const framesWhileSlow = sources.reduce((sum, source) => sum + source.frames, 0) - framesBefore;
    expect(framesWhileSlow).toBeGreaterThan(0);
    expect(framesWhileSlow / CAMERAS.length).toBeLessThan(SLOW_FOR_MS / 5000);
    expect(sources.map(({ sourceId, stale, outages }) => ({ sourceId, stale, outages })).sort((a, b) => a.sourceId.localeCompare(b.sourceId))).toEqual(
      CAMERAS.map((sourceId) => ({ sourceId, stale: false, outages: 0 })),
    );
    expect(inference.logs().filter((log) => String(log['msg']).includes('no frame for'))).toEqual([]);
  }, 150_000);
});
