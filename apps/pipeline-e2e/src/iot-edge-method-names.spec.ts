import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { ModuleProcess, startPipelineEdgeHub } from './module-process';

/**
 * The built telemetry module alone under the emulated edgeHub, asked for method names the SDK's topic parser reads no
 * name from: it threw out of its MQTT message handler, and the process died ("Device method call's MQTT topic name
 * does not include the method name."). Each is answered 501 like any method the module does not have.
 */
describe('the telemetry module asked for a direct method name the SDK reads no name from', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let telemetry: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-method-names-'));
    hub = await startPipelineEdgeHub(dir);
    telemetry = new ModuleProcess('telemetry', { ...hub.moduleEnv('telemetry'), DETECTIONS_CONNECT: `ipc://${join(dir, 'detections')}`, METRICS_PORT: '0' });
    await hub.waitForSubscription('telemetry', 'methods', 30_000);
  });

  afterAll(async () => {
    await telemetry?.stop('SIGKILL');
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers '/x', '' and '\\x' with 501 naming them, warns of them, and keeps running", async () => {
    for (const name of ['/x', '', '\\x']) {
      const answer = await hub.invokeMethod('telemetry', name, {}, 5000);
      expect([answer.status, (answer.payload as { method?: string }).method, telemetry.running]).toEqual([501, name, true]);
    }
    expect(telemetry.logs().filter((log) => log['method'] === '/x' && log['level'] === 40).map((log) => log['msg'])).toEqual([expect.stringMatching(/^telemetry has no direct method "\/x"/)]);
    expect((await hub.invokeMethod('telemetry', 'getStatus', {}, 5000)).status).toBe(200);
  });
});
