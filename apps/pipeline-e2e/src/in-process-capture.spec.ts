import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import type { Detections } from '@iev/frame-protocol';
import { childPids, eventually, isRunning, waitUntil } from '@iev/testing';
import { HeadlessChromium, INSTALLED_CHROMIUM, withChromium } from '@iev/testing/browser';
import { DEMO_VIDEO, latestPictureSizes, ModuleProcess, startPipelineEdgeHub, startPreview } from './module-process';

const detectionLines = (lines: string[]) => lines.filter((line) => line.startsWith('{"frame"')).map((line) => JSON.parse(line) as Detections);
const settingsOf = (reported: Record<string, unknown>) => (reported['settings'] ?? {}) as { cameras?: Record<string, Record<string, unknown>> };
const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as { version?: number; status?: string; error?: string };

/** The sources a preview lists on /api/sources, and whether each still waits for its first frame. */
async function previewSources(previewUrl: string): Promise<Array<{ sourceId: string; waiting: boolean }>> {
  const { sources } = (await (await fetch(`${previewUrl}/api/sources`)).json()) as { sources: Array<{ sourceId: string; waiting: boolean }> };
  return sources.map(({ sourceId, waiting }) => ({ sourceId, waiting }));
}

const listening = (preview: ModuleProcess) => preview.waitForLine(/"msg":"preview on http/, 20_000);

/** Waits until each preview shows a frame of `sourceId`. */
const showing = (previewUrls: string[], sourceId: string, timeoutMs: number) =>
  eventually(
    async () => ((await Promise.all(previewUrls.map(previewSources))).every((sources) => sources.some((source) => source.sourceId === sourceId && !source.waiting)) ? true : undefined),
    `a frame of ${sourceId} in every preview`,
    { timeoutMs, intervalMs: 100 },
  );

/**
 * Waits, no longer than `withinMs`, until no preview lists `sourceId`: inference announces the cameras it decodes, so
 * a preview need not wait for the silence of a removed one (FORGET_SILENT_SOURCE_MS, minutes).
 */
const notListing = (previewUrls: string[], sourceId: string, withinMs: number) =>
  eventually(
    async () => ((await Promise.all(previewUrls.map(previewSources))).every((sources) => !sources.some((source) => source.sourceId === sourceId)) ? true : undefined),
    `${sourceId} gone from every preview within ${withinMs} ms`,
    { timeoutMs: withinMs, intervalMs: 100 },
  );

describe('inference decoding its own sources (CAPTURE_SOURCES): no capture module', () => {
  let dir: string;
  /** Inference's frames offered and its detections, where each preview connects. */
  let frames: string;
  let detections: string;
  let hub: EdgeHubEmulator;
  let inference: ModuleProcess;
  /** Inference's environment, to start it again. */
  let inferenceEnv: Record<string, string>;
  let telemetry: ModuleProcess;
  let preview: ModuleProcess;
  let previewUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-own-'));
    detections = `ipc://${join(dir, 'detections')}`;
    frames = `ipc://${join(dir, 'frames')}`;
    telemetry = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: detections, CONSOLE_FORMAT: 'json', METRICS_PORT: '0' });
    // Two sources of two sizes and formats: the demo as fast as the model takes it, as I420 (converted on arrival, its
    // buffer given back at once), and at 320x240 and its own pace, as a camera, as BGR24 (the model reads its buffer
    // itself, given back once the frame is published).
    const sources = [
      { CAMERA_PATH: DEMO_VIDEO, CAPTURE_REALTIME: false },
      { CAMERA_PATH: DEMO_VIDEO, SOURCE_ID: 'door', CAPTURE_WIDTH: 320, CAPTURE_HEIGHT: 240, CAPTURE_PIXEL_FORMAT: 'bgr24' },
    ];
    // Inference runs as an IoT Edge module, whose twin changes its cameras; the others need no edgeHub.
    hub = await startPipelineEdgeHub(dir);
    inferenceEnv = {
      ...hub.moduleEnv('inference'),
      CAPTURE_SOURCES: JSON.stringify(sources),
      // Its frames offered to the preview, as a capture offers its own.
      FRAMES_BIND: frames,
      DETECTIONS_BIND: detections,
      DETECTION_PRESET: 'default',
      RECOGNITION: 'off',
      INFERENCE_THREADS: '1',
      METRICS_PORT: '0',
    };
    inference = new ModuleProcess('inference', inferenceEnv);
    ({ preview, url: previewUrl } = await startPreview([frames], detections, ['camera0', 'door']));
  });

  afterAll(async () => {
    await Promise.all([inference, telemetry, preview].map((module) => module.stop('SIGKILL')));
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers each source's detections at its own size, in its own order", async () => {
    const received = await telemetry.waitFor((lines) => {
      const found = detectionLines(lines);
      return ['camera0', 'door'].every((id) => found.filter((d) => d.frame.sourceId === id && d.boxes.length > 0).length >= 3) ? found : undefined;
    }, 'three frames with text boxes of each source at the sink', 60_000);

    for (const [id, size] of [['camera0', [640, 480]], ['door', [320, 240]]] as const) {
      const ofSource = received.filter((d) => d.frame.sourceId === id);
      expect(ofSource.every((d) => d.width === size[0] && d.height === size[1])).toBe(true);
      const sequences = ofSource.map((d) => d.frame.sequence);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    }
  });

  it('shows both sources in the preview, from the frames inference offers', async () => {
    await eventually(async () => {
      const { sources } = (await (await fetch(`${previewUrl}/api/sources`)).json()) as { sources: Array<{ sourceId: string; waiting: boolean }> };
      return sources.length === 2 && sources.every((source) => !source.waiting) ? sources : undefined;
    }, 'a frame of each source at the preview', { timeoutMs: 20_000, intervalMs: 500 });
    expect(await latestPictureSizes(previewUrl, ['camera0', 'door'])).toEqual([
      [640, 480],
      [320, 240],
    ]);
  }, 30_000);

  it("reports each source's state in /health and its metrics", async () => {
    const port = await inference.metricsPort();
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { healthy: boolean; capture: Array<{ sourceId: string; state: string; framesDecoded: number }> };
    expect(health.healthy).toBe(true);
    expect(health.capture.map(({ sourceId, state }) => [sourceId, state])).toEqual([
      ['camera0', 'streaming'],
      ['door', 'streaming'],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^iev_inference_source_up\{source_id="door",[^}]*\} 1$/m);
    expect(metrics).toMatch(/^iev_inference_source_frames_decoded_total\{source_id="door",[^}]*\} [1-9]\d*$/m);
  });

  it("changes a camera live from inference's twin, as capture's twin changes its one, and reports every camera", async () => {
    const door = { source: DEMO_VIDEO, fps: 0, width: 320, height: 240, crop: '' };
    await hub.waitForReported('inference', (r) => settingsOf(r).cameras?.['door']?.['width'] === 320, 30_000);
    await hub.patchDesired('inference', { cameras: { door: { width: 160, height: 120 } } });

    const reported = await hub.waitForReported('inference', (r) => settingsOf(r).cameras?.['door']?.['width'] === 160, 20_000);
    expect(lastDesiredOf(reported).status).toBe('applied');
    expect(settingsOf(reported).cameras).toEqual({ camera0: { source: DEMO_VIDEO, fps: 0, width: 0, height: 0, crop: '' }, door: { ...door, width: 160, height: 120 } });
    await telemetry.waitFor((lines) => detectionLines(lines).some((d) => d.frame.sourceId === 'door' && d.width === 160 && d.height === 120) || undefined, "door's detections at 160x120", 30_000);
    // A crop as capture's twin sets one: the top half, 160 wide.
    await hub.patchDesired('inference', { cameras: { door: { height: 0, crop: '0,0,100%,50%' } } });
    const cropped = await hub.waitForReported('inference', (r) => settingsOf(r).cameras?.['door']?.['crop'] === '0,0,100%,50%', 20_000);
    expect(settingsOf(cropped).cameras?.['door']).toEqual({ ...door, width: 160, height: 0, crop: '0,0,100%,50%' });
    await telemetry.waitFor((lines) => detectionLines(lines).some((d) => d.frame.sourceId === 'door' && d.width === 160 && d.height === 60) || undefined, "door's detections at 160x60", 30_000);

    // A camera inference does not have, without a source to add it by: nothing changes.
    await hub.patchDesired('inference', { cameras: { garage: { fps: 5 } } });
    const rejected = await hub.waitForReported('inference', (r) => lastDesiredOf(r).status === 'rejected', 20_000);
    expect(lastDesiredOf(rejected).error).toBe('cameras.garage is not a camera of this module; to add one, set its source (cameras: camera0, door)');
  }, 90_000);

  it("adds a camera from inference's twin, its detections and state beside the others, and removes it again", async () => {
    const port = await inference.metricsPort();
    const health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { capture: Array<{ sourceId: string }>; sources: Array<{ sourceId: string }> };
    await hub.patchDesired('inference', { cameras: { garage: { source: DEMO_VIDEO, width: 160, height: 120 } } });
    const added = await hub.waitForReported('inference', (r) => settingsOf(r).cameras?.['garage'] !== undefined, 20_000);
    expect(lastDesiredOf(added).status).toBe('applied');
    // Its rate and size from the twin, the rest as inference's environment leaves a CAPTURE_SOURCES entry.
    expect(settingsOf(added).cameras?.['garage']).toEqual({ source: DEMO_VIDEO, fps: 0, width: 160, height: 120, crop: '' });
    await telemetry.waitFor((lines) => detectionLines(lines).some((d) => d.frame.sourceId === 'garage' && d.width === 160) || undefined, "the added camera's detections", 30_000);
    expect((await health()).capture.map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door', 'garage']);
    const telemetryMetrics = async () => (await fetch(`http://127.0.0.1:${await telemetry.metricsPort()}/metrics`)).text();
    expect(await telemetryMetrics()).toMatch(/^iev_telemetry_seconds_since_detections\{source_id="garage",/m);
    expect(childPids(inference.child.pid as number)).toHaveLength(3);
    await showing([previewUrl], 'garage', 20_000);
    // Someone watching the camera as it is removed: the stream ends, as a forgotten source's does.
    const watched = await fetch(`${previewUrl}/sources/garage/live.mjpeg`);
    const watchedToTheEnd = watched.arrayBuffer().then(
      () => 'ended',
      (error: Error) => `broken: ${error.message}`,
    );

    await hub.patchDesired('inference', { cameras: { garage: null } });
    const removed = await hub.waitForReported('inference', (r) => settingsOf(r).cameras !== undefined && !('garage' in (settingsOf(r).cameras ?? {})), 20_000);
    expect(Object.keys(settingsOf(removed).cameras ?? {})).toEqual(['camera0', 'door']);
    await notListing([previewUrl], 'garage', 2500);
    expect(await watchedToTheEnd).toBe('ended');
    expect((await previewSources(previewUrl)).map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door']);
    await eventually(async () => {
      const { capture, sources } = await health();
      return capture.length === 2 && !sources.some(({ sourceId }) => sourceId === 'garage') ? true : undefined;
    }, 'the removed camera gone from /health', { timeoutMs: 15_000, intervalMs: 200 });
    expect(childPids(inference.child.pid as number)).toHaveLength(2);
    // Its series go too, once its frames still in flight are done.
    await eventually(async () => (!(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes('source_id="garage"') ? true : undefined), "the removed camera's series gone", {
      timeoutMs: 15_000,
      intervalMs: 500,
    });
    // And telemetry's, as inference announced it gone: its silence would otherwise grow for ever, an alert firing.
    expect(await telemetryMetrics()).not.toContain('source_id="garage"');
    expect(await telemetryMetrics()).toMatch(/^iev_telemetry_seconds_since_detections\{source_id="door",/m);
  }, 90_000);

  withChromium("takes a removed camera's card off the page in a real browser within a few seconds, the others left as they were", async () => {
    const browser = await HeadlessChromium.launch(INSTALLED_CHROMIUM);
    const cards = () => browser.evaluate<string[]>(`[...document.querySelectorAll('#sources [data-source]')].map((card) => card.dataset.source)`);
    try {
      await browser.send('Page.enable');
      await browser.send('Page.navigate', { url: previewUrl });
      await hub.patchDesired('inference', { cameras: { garage: { source: DEMO_VIDEO, width: 160, height: 120 } } });
      await eventually(
        async () => (await browser.evaluate<boolean>(`Boolean(document.querySelector('[data-source="garage"] canvas')?.dataset.sequence)`)) || undefined,
        "the added camera's picture drawn on the page",
        { timeoutMs: 30_000, intervalMs: 200 },
      );

      await hub.patchDesired('inference', { cameras: { garage: null } });
      // The page polls /api/sources every second.
      await eventually(async () => (!(await cards()).includes('garage') ? true : undefined), "the removed camera's card gone", { timeoutMs: 5000, intervalMs: 100 });
      expect(await cards()).toEqual(['camera0', 'door']);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('shows a camera the twin adds again in every preview; none lists it once removed, nor a preview started after, which its last frame, offered before, does not reach', async () => {
    const garage = async (settings: Record<string, unknown> | null) => {
      const version = await hub.patchDesired('inference', { cameras: { garage: settings } });
      const reported = await hub.waitForReported('inference', (r) => lastDesiredOf(r).version === version, 20_000);
      expect(lastDesiredOf(reported).status).toBe('applied');
    };
    const added = { source: DEMO_VIDEO, width: 160, height: 120 };
    const second = await startPreview([frames], detections, ['camera0', 'door']);
    try {
      await listening(second.preview);
      await showing([previewUrl, second.url], 'door', 20_000);
      await garage(added);
      await showing([previewUrl, second.url], 'garage', 30_000);
      await garage(null);
      await notListing([previewUrl, second.url], 'garage', 2500);
    } finally {
      await second.preview.stop('SIGINT');
    }

    // Removed while no preview runs: one started afterwards never lists it, though its last frame was offered.
    await preview.stop('SIGINT');
    const garageDetections = () => detectionLines(telemetry.stdout).filter((d) => d.frame.sourceId === 'garage').length;
    const detectedBefore = garageDetections();
    await garage(added);
    await telemetry.waitFor(() => garageDetections() >= detectedBefore + 3 || undefined, 'the camera added again, detected', 30_000);
    await garage(null);
    ({ preview, url: previewUrl } = await startPreview([frames], detections, ['camera0', 'door']));
    await listening(preview);
    await showing([previewUrl], 'camera0', 20_000);
    await showing([previewUrl], 'door', 20_000);
    await notListing([previewUrl], 'garage', 2500);
    // And it stays gone while the other cameras' frames and detections come.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await previewSources(previewUrl)).map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door']);
  }, 150_000);

  it("drops a camera the twin removed while inference was down once the restarted inference's twin is applied, not before, the others' streams going on", async () => {
    const summaries = async () => ((await (await fetch(`${previewUrl}/api/sources`)).json()) as { sources: Array<{ sourceId: string; sequence: number }> }).sources;
    await listening(preview);
    await hub.waitForSubscription('inference', 'desired', 60_000);
    const added = await hub.patchDesired('inference', { cameras: { garage: { source: DEMO_VIDEO, width: 160, height: 120 } } });
    // Applied before inference stops, so that its run listed the camera; a frame at the preview alone may be older.
    await hub.waitForReported('inference', (r) => lastDesiredOf(r).version === added, 20_000);
    await showing([previewUrl], 'garage', 30_000);
    // Someone watching door across the restart, and what the preview lists all along.
    const watched = (await fetch(`${previewUrl}/sources/door/live.mjpeg`)).body?.getReader();
    if (!watched) throw new Error("door's stream has no body");
    const stream = { bytes: 0, ended: false };
    const watching = (async () => {
      for (let chunk = await watched.read(); !chunk.done; chunk = await watched.read()) stream.bytes += chunk.value.length;
      stream.ended = true;
    })().catch(() => (stream.ended = true));
    const listings: string[][] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        listings.push((await summaries()).map(({ sourceId }) => sourceId));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    try {
      const doorSequence = (await summaries()).find(({ sourceId }) => sourceId === 'door')?.sequence as number;
      expect(await inference.stop('SIGINT')).toBe(0);
      const version = await hub.patchDesired('inference', { cameras: { garage: null } });
      // edgeHub not there as it starts again: its list is not complete, and the preview drops nothing.
      await hub.stopBroker();
      try {
        inference = new ModuleProcess('inference', inferenceEnv);
        // The new run's frames (numbered from 0 again) and announcements at the preview.
        await eventually(async () => ((await summaries()).some(({ sourceId, sequence }) => sourceId === 'door' && sequence < doorSequence) ? true : undefined), "the restarted inference's frames of door", {
          timeoutMs: 60_000,
          intervalMs: 200,
        });
        await new Promise((resolve) => setTimeout(resolve, 2000));
        expect((await summaries()).map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door', 'garage']);
      } finally {
        await hub.startBroker();
      }
      await hub.waitForReported('inference', (r) => lastDesiredOf(r).version === version, 30_000);
      await notListing([previewUrl], 'garage', 3000);
      const bytesOnceDropped = stream.bytes;
      await eventually(async () => (stream.bytes > bytesOnceDropped ? true : undefined), "door's stream going on", { timeoutMs: 10_000, intervalMs: 100 });
      expect(stream.ended).toBe(false);
    } finally {
      polling = false;
      await poll;
      await watched.cancel();
      await watching;
    }
    expect(listings.filter((ids) => !(ids.includes('camera0') && ids.includes('door')))).toEqual([]);
    expect((await summaries()).map(({ sourceId }) => sourceId)).toEqual(['camera0', 'door']);
  }, 150_000);

  it('stops cleanly on Ctrl-C, leaving none of its decoders behind', async () => {
    // A camera the restarted inference's twin switched (make-before-break) has its new decoder beside the old until its first frame.
    await waitUntil(() => childPids(inference.child.pid as number).length === 2, () => `two decoders (${childPids(inference.child.pid as number).length})`);
    const decoders = childPids(inference.child.pid as number);
    expect(await inference.stop('SIGINT')).toBe(0);
    expect(decoders.filter(isRunning)).toEqual([]);
  });
});
