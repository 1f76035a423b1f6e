import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { ModuleProcess, startPipeline, startPipelineEdgeHub } from './module-process';

/** How late edgeHub comes up after the modules, as at a device's boot. */
const EDGEHUB_LATE_MS = 15_000;
/** The acceptance: detections reach edgeHub within this long of its arrival. */
const DELIVERY_BOUND_MS = 30_000;

/**
 * The three built modules started before edgeHub listens, as edgeAgent starts them at boot: they work from
 * the first second (frames, detections, telemetry queueing upstream), say edgeHub is not reachable yet, and
 * deliver once it arrives, without a module exiting.
 */
describe('the modules at boot, edgeHub coming up 15 s after them', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let modules: ModuleProcess[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-late-edgehub-'));
    hub = await startPipelineEdgeHub(dir);
    // The workload API is up (the IoT Edge daemon starts first); edgeHub's MQTT port is not yet.
    await hub.stopBroker();
    modules = startPipeline(dir, {
      edgeEnv: (id) => hub.moduleEnv(id),
      inference: { INFERENCE_STREAMS: '1' },
      // Capture logs as a module under IoT Edge does by default: IoT Edge's own line format.
      capture: { LOG_FORMAT: undefined, CAPTURE_FPS: '10' },
    });
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('works without edgeHub, then delivers detections within 30 s of its arrival, no module having exited', async () => {
    const bootAt = Date.now();
    const notReachable = `edgeHub not reachable yet at ${hub.gatewayHostName} (connection refused`;
    for (const module of modules.slice(0, 2)) {
      await module.waitFor(() => module.logs().find((log) => String(log['msg']).startsWith(notReachable)), `${module.name} to say edgeHub is not reachable yet`);
    }
    const captureLine = await modules[2].waitFor((lines) => lines.find((line) => line.includes(notReachable)), 'capture to say edgeHub is not reachable yet');
    // edgeHub after the modules is IoT Edge's normal boot order: said at info, within firstConnectionGraceMs no warning.
    expect(captureLine).toMatch(/^<6> \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[INF\] - edgeHub not reachable yet at .*\(waiting for edgeHub's first connection; normal while IoT Edge starts\)/);
    // Detections flow meanwhile and wait in telemetry's upstream queue.
    const telemetryPort = await modules[0].metricsPort();
    const health = async () => (await (await fetch(`http://127.0.0.1:${telemetryPort}/health`)).json()) as { iotEdge: { connected: boolean; upstream: { queued: number } } };
    for (;;) {
      const { iotEdge } = await health();
      expect(iotEdge.connected).toBe(false);
      if (iotEdge.upstream.queued > 0) break;
      if (Date.now() - bootAt > EDGEHUB_LATE_MS) throw new Error('no detections queued upstream before edgeHub came up');
      await sleep(200);
    }

    await sleep(Math.max(0, bootAt + EDGEHUB_LATE_MS - Date.now()));
    await hub.startBroker();
    const arrivedAt = Date.now();
    const [first] = await hub.waitForUpstream(1, DELIVERY_BOUND_MS);
    expect(first.receivedAt - arrivedAt).toBeLessThan(DELIVERY_BOUND_MS);
    expect(JSON.parse(first.body.toString('utf8'))).toMatchObject({ type: 'detections', frame: { sourceId: 'camera0' } });
    // The log and the report say how long delivery took (the acceptance's number).
    process.stdout.write(`first detections upstream ${first.receivedAt - arrivedAt} ms after edgeHub arrived\n`);

    // Each module retries on its own backoff (at most ~10 s apart): all are connected within the bound too.
    while (hub.connectedModules().length < 3 && Date.now() - arrivedAt < DELIVERY_BOUND_MS) await sleep(200);
    expect(hub.connectedModules().sort()).toEqual(['capture', 'inference', 'telemetry']);
    for (const module of modules) expect(module.child.exitCode).toBeNull();
    // 15 s late is well within the 60 s grace: no module warned about edgeHub meanwhile.
    for (const module of modules.slice(0, 2)) expect(module.logs().filter((log) => Number(log['level']) >= 40 && /edgeHub/.test(String(log['msg'])))).toEqual([]);
    expect(modules[2].stdout.filter((line) => line.startsWith('<4>') && line.includes('edgeHub'))).toEqual([]);
    expect((await health()).iotEdge.connected).toBe(true);
    // Under IoT Edge every series says which hub, device, module and run it comes from, as edgeHub's own do.
    const metrics = await (await fetch(`http://127.0.0.1:${telemetryPort}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^iev_telemetry_upstream_sent_total\\{iothub="${hub.iothubHostName}",edge_device="${hub.deviceId}",module="telemetry",instance_number="[0-9a-f-]{36}"\\} \\d+$`, 'm'),
    );
  }, 120_000);

  it('stops a module whose key edgeHub refuses, with exit code 1 and the credentials message', async () => {
    const caFile = join(dir, 'edge-ca.pem');
    writeFileSync(caFile, hub.caPem);
    const telemetry = new ModuleProcess('telemetry', {
      EdgeHubConnectionString: hub.connectionString('telemetry', { wrongKey: true }),
      EdgeModuleCACertificateFile: caFile,
      DETECTIONS_CONNECT: `ipc://${join(dir, 'nothing')}`,
      METRICS_PORT: '0',
    });
    modules.push(telemetry);
    expect(await telemetry.exited).toBe(1);
    expect(telemetry.stderr.join('\n')).toMatch(/^telemetry: stopped: edgeHub refused the module's credentials \(Connection refused: Not authorized\): check the SharedAccessKey/m);
  }, 60_000);
});
