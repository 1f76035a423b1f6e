import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { eventually } from '@iev/testing';
import { DetectionsPublisher } from './detections-publisher';
import { ModuleProcess, startPipelineEdgeHub } from './module-process';

/** TELEMETRY_SILENCE_MS and TELEMETRY_UPSTREAM_GRACE_MS here: short, so the spec takes seconds, yet far above the detections' 100 ms pace on a loaded machine. */
const LIMIT_MS = 3000;

interface TelemetryHealthReport {
  healthy: boolean;
  status?: string;
  silentForMs?: number;
  upstream?: { connected: boolean; downForMs: number; queued: number; dropped: number };
  iotEdge?: { connected: boolean };
  transport?: { dispatched: number };
}

/** The built telemetry module's /health, /live and /metrics, with detections from a publisher the spec starts and stops. */
describe('telemetry /health', () => {
  let dir: string;
  let detectionsEndpoint: string;
  const stopping: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-telemetry-health-'));
    detectionsEndpoint = `ipc://${join(dir, 'detections')}`;
  });

  afterEach(async () => {
    for (const stop of stopping.splice(0).reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function start<T extends { close(): Promise<unknown> } | ModuleProcess>(thing: T): T {
    stopping.push(() => (thing instanceof ModuleProcess ? thing.stop('SIGKILL') : thing.close()));
    return thing;
  }

  type HealthAnswer = { status: number; body: TelemetryHealthReport };

  /** Asks the module's METRICS_PORT: `health()` its /health, `get(path)` another path's answer. */
  async function observabilityOf(telemetry: ModuleProcess): Promise<{ health: () => Promise<HealthAnswer>; get: (path: string) => Promise<Response> }> {
    const port = await telemetry.metricsPort();
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    return {
      get,
      health: async () => {
        const response = await get('/health');
        return { status: response.status, body: (await response.json()) as TelemetryHealthReport };
      },
    };
  }

  /** /health until `until` holds, failing with the last answer. */
  async function healthWhen(health: () => Promise<HealthAnswer>, until: (answer: HealthAnswer) => boolean, what: string): Promise<HealthAnswer> {
    let last: unknown;
    return eventually(
      async () => {
        const answer = await health();
        last = answer;
        return until(answer) ? answer : undefined;
      },
      () => `${what}; last /health: ${JSON.stringify(last)}`,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  it('is healthy while detections flow, 503 naming the silence past TELEMETRY_SILENCE_MS, healthy again when they return', async () => {
    let publisher = start(new DetectionsPublisher(detectionsEndpoint));
    const telemetry = start(new ModuleProcess('telemetry', { DETECTIONS_CONNECT: detectionsEndpoint, TELEMETRY_SINK: 'console', TELEMETRY_SILENCE_MS: String(LIMIT_MS), METRICS_PORT: '0' }));
    const { health, get } = await observabilityOf(telemetry);
    await healthWhen(health, ({ status, body }) => status === 200 && (body.transport?.dispatched ?? 0) > 0, 'detections to arrive');
    // Flowing for twice the limit: never degraded meanwhile (boxes or none, a message a frame).
    for (const until = Date.now() + 2 * LIMIT_MS; Date.now() < until; await sleep(100)) expect(await health()).toMatchObject({ status: 200, body: { healthy: true } });

    await publisher.close();
    const silent = await healthWhen(health, ({ status }) => status === 503, 'the silence to be told');
    expect(silent.body).toMatchObject({ healthy: false, status: 'degraded' });
    expect(silent.body.silentForMs).toBeGreaterThanOrEqual(LIMIT_MS);
    // Degraded is no reason to restart it: the images' HEALTHCHECK asks /live.
    expect((await get('/live')).status).toBe(200);
    const warned = telemetry.logs().filter((log) => log['level'] === 40 && String(log['msg']).startsWith('no detections for '));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ detectionsConnect: detectionsEndpoint });
    const gauge = /^iev_telemetry_seconds_since_detections\{[^}]*source_id="camera0"[^}]*\} ([\d.e+-]+)$/m.exec(await (await get('/metrics')).text());
    expect(Number(gauge?.[1])).toBeGreaterThanOrEqual(LIMIT_MS / 1000);

    publisher = start(new DetectionsPublisher(detectionsEndpoint));
    const back = await healthWhen(health, ({ status }) => status === 200, 'health once detections return');
    expect(back.body).toMatchObject({ healthy: true });
    expect(back.body).not.toHaveProperty('silentForMs');
    await telemetry.waitFor(() => telemetry.logs().find((log) => log['level'] === 30 && String(log['msg']).startsWith('detections again after')), 'the end of the silence to be said');
    expect(telemetry.logs().filter((log) => String(log['msg']).startsWith('no detections for '))).toHaveLength(1);
  }, 60_000);

  it("leaves out its own pause (stopped, a suspended VM with inference in it): detections that stopped with it are no silence", async () => {
    let publisher = start(new DetectionsPublisher(detectionsEndpoint));
    // Twice the usual limit: the publisher's socket, bound anew, has seconds to be reconnected to after the pause.
    const limitMs = 2 * LIMIT_MS;
    const telemetry = start(new ModuleProcess('telemetry', { DETECTIONS_CONNECT: detectionsEndpoint, TELEMETRY_SINK: 'console', TELEMETRY_SILENCE_MS: String(limitMs), METRICS_PORT: '0' }));
    const { health } = await observabilityOf(telemetry);
    const dispatched = async () => (await health()).body.transport?.dispatched ?? 0;
    await healthWhen(health, ({ status, body }) => status === 200 && (body.transport?.dispatched ?? 0) > 0, 'detections to arrive');
    // Both stop together for twice the limit, as in a suspended VM, and go on together.
    await publisher.close();
    const pid = telemetry.child.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(2 * limitMs);
      publisher = start(new DetectionsPublisher(detectionsEndpoint));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const before = await dispatched();
    await eventually(async () => ((await dispatched()) > before ? true : undefined), 'detections again after the pause', { timeoutMs: 30_000, intervalMs: 100 });
    expect(telemetry.logs().filter((log) => String(log['msg']).startsWith('no detections for '))).toEqual([]);
  }, 60_000);

  it('is 503 naming edgeHub once it is away past TELEMETRY_UPSTREAM_GRACE_MS, healthy again once it is back', async () => {
    const hub: EdgeHubEmulator = await startPipelineEdgeHub(dir);
    stopping.push(() => hub.stop());
    start(new DetectionsPublisher(detectionsEndpoint));
    const telemetry = start(new ModuleProcess('telemetry', { ...hub.moduleEnv('telemetry'), DETECTIONS_CONNECT: detectionsEndpoint, TELEMETRY_UPSTREAM_GRACE_MS: String(LIMIT_MS), METRICS_PORT: '0' }));
    const { health, get } = await observabilityOf(telemetry);
    await healthWhen(health, ({ status, body }) => status === 200 && body.iotEdge?.connected === true, 'telemetry to connect to edgeHub');
    await hub.waitForUpstream(1, 30_000);
    // A start slower than the short grace is said too (the grace counts from start): only what follows is this outage's.
    const logsSince = telemetry.logs().length;
    const outageLogs = (level: number, start: string) => telemetry.logs().slice(logsSince).filter((log) => log['level'] === level && String(log['msg']).startsWith(start));

    // Up longer than the grace before edgeHub goes: the grace counts from the drop, not from start.
    await sleep(LIMIT_MS);
    await hub.stopBroker();
    const dropped = await healthWhen(health, ({ body }) => body.iotEdge?.connected === false, 'telemetry to see edgeHub gone');
    expect(dropped).toMatchObject({ status: 200, body: { healthy: true } });
    const away = await healthWhen(health, ({ status }) => status === 503, 'edgeHub away to be told');
    expect(away.body).toMatchObject({ healthy: false, status: 'degraded', upstream: { connected: false } });
    expect(away.body.upstream?.downForMs).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(away.body.upstream?.dropped).toBe(0);
    // Detections keep coming while edgeHub is away: they queue.
    await healthWhen(health, ({ body }) => (body.upstream?.queued ?? 0) > 0, 'messages to queue');
    expect((await get('/live')).status).toBe(200);

    await hub.startBroker();
    const back = await healthWhen(health, ({ status }) => status === 200, 'health once edgeHub is back');
    expect(back.body).toMatchObject({ healthy: true, iotEdge: { connected: true } });
    expect(back.body).not.toHaveProperty('upstream');
    await telemetry.waitFor(() => outageLogs(30, 'edgeHub back after ')[0], 'the end of the outage to be said');
    expect(outageLogs(40, 'edgeHub away for ')).toHaveLength(1);
  }, 90_000);
});
