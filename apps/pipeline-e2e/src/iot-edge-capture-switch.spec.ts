import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { eventually, freePort, metricSums } from '@iev/testing';
import { ModuleProcess, startPipelineEdgeHub } from './module-process';

interface Health {
  healthy: boolean;
  source: string;
  lastFrameAt?: number;
  switchPending?: { since: number; failures: number; error?: string };
}

const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as Record<string, unknown>;
const switchPendingOf = (reported: Record<string, unknown>) => reported['switchPending'] as Health['switchPending'] | null | undefined;

/**
 * A fleet-wide twin patch with a typo in a camera's URL: the capture module that streams keeps streaming its camera
 * while the stream it was switched to cannot be reached, and says so in /health, getStatus, its reported properties,
 * its metrics and its log; a patch back drops the pending switch.
 */
describe('capture under (emulated) IoT Edge, its twin switching a working camera to a stream that cannot be reached', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let capture: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-capture-switch-'));
    hub = await startPipelineEdgeHub(dir);
    const camera = { CAMERA_PATH: 'testsrc', CAPTURE_WIDTH: '64', CAPTURE_HEIGHT: '48', CAPTURE_FPS: '10' };
    capture = new ModuleProcess('capture', { ...hub.moduleEnv('capture'), ...camera, FRAMES_BIND: `ipc://${join(dir, 'frames')}`, METRICS_PORT: '0' });
  });

  afterAll(async () => {
    await capture?.stop('SIGKILL');
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps streaming the running camera while the new one fails, saying the switch is pending and why; a patch back drops it', async () => {
    const port = await capture.metricsPort();
    const health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
    const metrics = async () => metricSums(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    await eventually(async () => ((await health()).source === 'streaming' ? true : undefined), () => 'capture to stream the test pattern', { timeoutMs: 30_000, intervalMs: 200 });
    await hub.waitForReported('capture', (reported) => reported['settings'] !== undefined, 30_000);

    const typo = `rtsp://127.0.0.1:${await freePort()}/camera`;
    const version = await hub.patchDesired('capture', { source: typo });
    const applied = await hub.waitForReported('capture', (reported) => lastDesiredOf(reported)['version'] === version, 20_000);
    expect(lastDesiredOf(applied)).toEqual({ version, status: 'applied' });

    const pending = await eventually(async () => {
      const body = await health();
      return (body.switchPending?.failures ?? 0) >= 1 ? body : undefined;
    }, () => 'the switch to the stream to fail', { timeoutMs: 20_000, intervalMs: 200 });
    expect(pending).toMatchObject({ healthy: true, source: 'streaming', switchPending: { since: expect.any(Number), error: expect.stringContaining(typo) } });
    // Frames keep coming from the test pattern.
    await eventually(async () => ((await health()).lastFrameAt ?? 0) > (pending.lastFrameAt ?? 0) || undefined, () => 'a newer frame', { timeoutMs: 5000, intervalMs: 100 });
    const status = await hub.invokeMethod('capture', 'getStatus', {}, 10_000);
    expect(status).toMatchObject({ status: 200, payload: { source: 'streaming', sourceType: 'stream', switchPending: { error: expect.stringContaining(typo) } } });
    expect(capture.logs()).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining(`switch pending, the running source keeps delivering: `) }));
    // For a fleet's alerts: how long the switch has waited, and its failed attempts.
    const pendingMetrics = await metrics();
    expect(pendingMetrics.get('iev_capture_source_switch_pending_seconds')).toBeGreaterThan(0);
    expect(pendingMetrics.get('iev_capture_source_switch_failures_total')).toBeGreaterThanOrEqual(1);
    // In the periodic report (every 30 s), for a fleet's twins to be queried for switches that did not happen.
    const reported = await hub.waitForReported('capture', (r) => (switchPendingOf(r)?.failures ?? 0) >= 1, 45_000);
    expect(switchPendingOf(reported)?.error).toContain(typo);

    // Back to the camera it streams: the pending switch is dropped, and the camera runs on without a restart.
    const sourceStarts = () => capture.logs().filter(({ msg }) => msg === 'source streaming').length;
    const startsBefore = sourceStarts();
    const back = await hub.patchDesired('capture', { source: 'testsrc' });
    await hub.waitForReported('capture', (r) => lastDesiredOf(r)['version'] === back, 20_000);
    expect(await health()).toMatchObject({ healthy: true, source: 'streaming' });
    expect((await health()).switchPending).toBeUndefined();
    expect((await metrics()).get('iev_capture_source_switch_pending_seconds')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sourceStarts()).toBe(startsBefore);
  }, 120_000);
});
