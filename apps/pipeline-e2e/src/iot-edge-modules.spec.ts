import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator, UpstreamMessage } from '@iev/edge-hub-emulator';
import { METHOD_PAYLOAD_LIMIT_BYTES } from '@iev/frame-annotation';
import { eventually } from '@iev/testing';
import sharp from 'sharp';
import { DEMO_VIDEO, ModuleProcess, startPipeline, startPipelineEdgeHub, WORKSPACE_ROOT } from './module-process';

type Body = Record<string, unknown> & { type: string; boxes?: unknown[]; frames?: number };
const bodyOf = (message: UpstreamMessage): Body => JSON.parse(message.body.toString('utf8'));
const settingsOf = (reported: Record<string, unknown>) => (reported['settings'] ?? {}) as Record<string, unknown>;
const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as Record<string, unknown>;

/** The project's own deployment manifest: its module twins are what a device gets. */
const template = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deployment/deployment.template.json'), 'utf8'));
const manifestDesired = (id: string): Record<string, unknown> => template.modulesContent[id]['properties.desired'];

/**
 * The three built modules as IoT Edge modules: each runs ModuleClient.fromEnvironment unmodified against the
 * emulated edgeHub and workload API, with twins and direct methods, while frames flow over ZeroMQ.
 */
describe('the modules under (emulated) IoT Edge', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let modules: ModuleProcess[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-edge-modules-'));
    hub = await startPipelineEdgeHub(dir, {
      // There is no camera here: capture's twin switches it to the demo video at 10 fps, as a fleet operator would.
      capture: { ...manifestDesired('capture'), source: DEMO_VIDEO, fps: 10 },
      inference: manifestDesired('inference'),
      telemetry: manifestDesired('telemetry'),
      preview: {},
    });
    modules = [
      ...startPipeline(dir, { edgeEnv: (id) => hub.moduleEnv(id) }),
      new ModuleProcess('preview', {
        ...hub.moduleEnv('preview'),
        FRAMES_CONNECT: `ipc://${join(dir, 'frames')}`,
        DETECTIONS_CONNECT: `ipc://${join(dir, 'detections')}`,
        PREVIEW_PORT: '0',
        METRICS_PORT: '0',
      }),
    ];
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Upstream messages that arrive from now on, until `count` satisfy the predicate. */
  async function nextUpstream(count: number, accept: (body: Body) => boolean, timeoutMs = 30_000): Promise<Body[]> {
    const start = hub.upstreamMessages().length;
    const accepted = () => hub.upstreamMessages().slice(start).map(bodyOf).filter(accept);
    return eventually(
      () => {
        const bodies = accepted();
        return bodies.length >= count ? bodies : undefined;
      },
      () => `${count} upstream messages (${accepted().length} so far)`,
      { timeoutMs, intervalMs: 100 },
    );
  }

  it("applies the deployment manifest's twin settings on every module", async () => {
    const reported = await Promise.all(
      ['capture', 'inference', 'telemetry'].map((id) => hub.waitForReported(id, (r) => lastDesiredOf(r)['status'] !== undefined, 60_000)),
    );
    for (const r of reported) expect(lastDesiredOf(r)).toMatchObject({ status: 'applied' });
    // The manifest's inference twin sets nothing its env sets: the env's preset stands.
    expect(manifestDesired('inference')).toEqual({});
    expect(settingsOf(reported[1])).toMatchObject({ preset: 'default' });
    expect(settingsOf(reported[2])).toMatchObject(manifestDesired('telemetry'));
    // The rest of the tests want every frame upstream and the faster preset.
    await hub.patchDesired('telemetry', { aggregateIntervalMs: 0 });
    await hub.patchDesired('inference', { preset: 'default', thresh: null, boxThresh: 0.6, unclipRatio: null });
    await hub.waitForReported('inference', (r) => settingsOf(r)['preset'] === 'default', 20_000);
    await hub.waitForReported('telemetry', (r) => settingsOf(r)['aggregateIntervalMs'] === 0, 20_000);
  }, 90_000);

  it('sends detections upstream from telemetry and reports each module in its twin', async () => {
    // The twin set the default preset, whose model is PP-OCRv4's detector. Frames the old model had in hand when the
    // twin was applied may still reach telemetry, and upstream, after inference reported the switch.
    const bodies = await nextUpstream(3, (body) => (body.boxes?.length ?? 0) > 0 && body.modelId === 'ch_PP-OCRv4_det_infer@30a86f57', 60_000);
    expect(bodies[0]).toMatchObject({ type: 'detections', frame: { sourceId: 'camera0' }, width: 640, height: 480, modelId: 'ch_PP-OCRv4_det_infer@30a86f57' });
    const [message] = hub.upstreamMessages().slice(-1);
    expect(message).toMatchObject({ moduleId: 'telemetry', outputName: 'detections', contentType: 'application/json', properties: { sourceId: 'camera0' } });

    const inference = await hub.waitForReported('inference', (r) => typeof r['fps'] === 'number', 20_000);
    expect(inference).toMatchObject({ version: '0.1.0', backend: 'onnxruntime-cpu', modelId: 'ch_PP-OCRv4_det_infer@30a86f57', settings: { preset: 'default', boxThresh: 0.6 } });
    expect(inference['modelSha256']).toMatch(/^30a86f57[0-9a-f]{56}$/);
    expect(settingsOf(hub.twin('capture').reported)).toMatchObject({ source: DEMO_VIDEO, fps: 10 });
  }, 90_000);

  it("says in every module's /health that it is connected to edgeHub", async () => {
    const connected: Record<string, boolean | undefined> = {};
    for (const module of modules) {
      const port = await module.metricsPort();
      const health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { iotEdge?: { connected: boolean } };
      connected[module.name] = await eventually(async () => (await health()).iotEdge?.connected || undefined, `${module.name}'s /health saying it is connected`, { timeoutMs: 20_000, intervalMs: 200 }).catch(() => false);
    }
    expect(connected).toEqual({ capture: true, inference: true, telemetry: true, preview: true });
  }, 90_000);

  it("reports each camera's rate, skips, latency and outages in inference's twin (every 30 s)", async () => {
    const reported = await hub.waitForReported('inference', (r) => typeof (r['sources'] as Record<string, { fps?: unknown }> | undefined)?.['camera0']?.fps === 'number', 45_000);
    expect(reported['sources']).toEqual({
      camera0: { fps: expect.any(Number), skipped: expect.any(Number), latencyMs: expect.any(Number), stale: false, outages: 0 },
    });
  }, 60_000);

  it('changes the box threshold of the running inference from the twin, and back', async () => {
    await hub.patchDesired('inference', { boxThresh: 0.99 });
    await hub.waitForReported('inference', (r) => settingsOf(r)['boxThresh'] === 0.99, 20_000);
    // Frames already in flight may carry the old threshold; the ones after them find (almost) nothing.
    const strict = (await nextUpstream(8, () => true)).slice(3);
    expect(strict.every((body) => body.boxes?.length === 0)).toBe(true);

    // Removed from the twin: back to the start-up value, here the preset's own.
    await hub.patchDesired('inference', { boxThresh: null });
    await hub.waitForReported('inference', (r) => !('boxThresh' in settingsOf(r)), 20_000);
    await nextUpstream(2, (body) => (body.boxes?.length ?? 0) > 0);
  }, 90_000);

  it('rejects an invalid desired value with a reported error and keeps running', async () => {
    await hub.patchDesired('inference', { preset: 'fastest', unclipRatio: 1.8 });
    const reported = await hub.waitForReported('inference', (r) => lastDesiredOf(r)['status'] === 'rejected', 20_000);
    expect(lastDesiredOf(reported)['error']).toBe('preset must be one of seed, default (got "fastest")');
    expect(settingsOf(reported)).toMatchObject({ preset: 'default', unclipRatio: 1.8 });
    await nextUpstream(2, () => true);
  }, 60_000);

  it('aggregates upstream messages when the telemetry twin asks for it', async () => {
    await hub.patchDesired('telemetry', { aggregateFrames: 5 });
    await hub.waitForReported('telemetry', (r) => settingsOf(r)['aggregateFrames'] === 5, 20_000);
    const [summary] = await nextUpstream(1, (body) => body.type === 'detections-summary');
    expect(summary).toMatchObject({ type: 'detections-summary', sourceId: 'camera0', frames: 5 });
  }, 60_000);

  it('answers getStatus on every module', async () => {
    const [capture, inference, telemetry] = await Promise.all(['capture', 'inference', 'telemetry'].map((id) => hub.invokeMethod(id, 'getStatus', {}, 10_000)));
    expect(capture).toMatchObject({ status: 200, payload: { module: 'capture', connected: true, source: 'streaming', sourceType: 'file' } });
    expect(inference).toMatchObject({ status: 200, payload: { module: 'inference', backend: 'onnxruntime-cpu' } });
    expect(telemetry).toMatchObject({ status: 200, payload: { module: 'telemetry', upstream: { dropped: 0 } } });
    expect((inference.payload as Record<string, number>)['fps']).toBeGreaterThan(0);
  });

  it("answers getSnapshot on the preview: the newest annotated frame as a base64 JPEG within IoT Hub's 128 KB", async () => {
    const snapshot = await eventually(
      async () => {
        const answer = await hub.invokeMethod('preview', 'getSnapshot', {}, 10_000);
        return answer.status === 200 ? answer : undefined;
      },
      'a snapshot once frames flow',
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(Buffer.byteLength(JSON.stringify(snapshot.payload))).toBeLessThanOrEqual(METHOD_PAYLOAD_LIMIT_BYTES);
    const payload = snapshot.payload as { sourceId: string; sequence: number; width: number; height: number; jpeg: string };
    expect(payload).toMatchObject({ sourceId: 'camera0', sequence: expect.any(Number) });
    const image = await sharp(Buffer.from(payload.jpeg, 'base64')).metadata();
    expect([image.format, image.width, image.height]).toEqual(['jpeg', payload.width, payload.height]);
    expect(payload.width / payload.height).toBeCloseTo(640 / 480, 1);

    const unknown = await hub.invokeMethod('preview', 'getSnapshot', { sourceId: 'camera9' }, 10_000);
    expect(unknown).toMatchObject({ status: 400, payload: { error: 'no such source: camera9 (sources: camera0)' } });
  }, 60_000);

  it('answers a method a module does not have at once with 501, naming it and the methods the module has, not a 504 after the timeout', async () => {
    await hub.waitForSubscription('preview', 'methods', 30_000);
    expect(await hub.invokeMethod('preview', 'getSnapshots', {}, 10_000)).toEqual({
      status: 501,
      payload: { error: 'preview has no direct method "getSnapshots" (its methods: getStatus, getSnapshot)', method: 'getSnapshots', methods: ['getStatus', 'getSnapshot'] },
    });
  });
});
