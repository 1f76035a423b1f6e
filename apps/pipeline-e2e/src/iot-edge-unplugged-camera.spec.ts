import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { eventually } from '@iev/testing';
import { DEMO_VIDEO, ModuleProcess, startPipelineEdgeHub } from './module-process';

/** A V4L2 device no machine here has: a USB camera that is unplugged. */
const UNPLUGGED = '/dev/video97';

const lastDesiredOf = (reported: Record<string, unknown>) => (reported['lastDesired'] ?? {}) as Record<string, unknown>;
const settingsOf = (reported: Record<string, unknown>) => (reported['settings'] ?? {}) as Record<string, unknown>;

/**
 * The capture module restarted on a device whose twin names a USB camera that is unplugged: the twin's document at
 * its first connect is the device's configuration, so capture waits for that camera (as for CAMERA_PATH's at start-up) and
 * applies the rest of the document, instead of rejecting it all and running on its start-up camera. A patch still
 * refuses a camera that is not there, keeping the camera it has.
 */
describe('capture under (emulated) IoT Edge, its twin naming a camera that is not plugged in', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let capture: ModuleProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-unplugged-camera-'));
    hub = await startPipelineEdgeHub(dir, { capture: { source: UNPLUGGED, fps: 5 } });
    capture = new ModuleProcess('capture', { ...hub.moduleEnv('capture'), CAMERA_PATH: DEMO_VIDEO, FRAMES_BIND: `ipc://${join(dir, 'frames')}`, METRICS_PORT: '0' });
  });

  afterAll(async () => {
    await capture?.stop('SIGKILL');
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies the first document after start-up and waits for the camera, retrying it; applies a patch that keeps the camera, refuses one to another camera that is not there', async () => {
    const reported = await hub.waitForReported('capture', (r) => lastDesiredOf(r)['status'] !== undefined, 60_000);
    // The twin as edgeHub keeps it: a merge of the reports, where a null (no error) removes the key.
    expect(lastDesiredOf(reported)).toEqual({ version: expect.any(Number), status: 'applied' });
    expect(settingsOf(reported)).toMatchObject({ source: UNPLUGGED, fps: 5 });
    const port = await capture.metricsPort();
    const health = await eventually(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { source: string };
        return body.source === 'retrying' ? body : undefined;
      },
      () => 'capture to retry the unplugged camera',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(health).toMatchObject({ healthy: false, source: 'retrying' });
    expect(capture.logs()).toContainEqual(expect.objectContaining({ msg: expect.stringContaining(UNPLUGGED) }));

    // A patch that leaves the camera as it is applies while it is waited for; one to another missing camera does not.
    const rate = await hub.patchDesired('capture', { fps: 2 });
    const rated = await hub.waitForReported('capture', (r) => lastDesiredOf(r)['version'] === rate, 20_000);
    expect(lastDesiredOf(rated)).toEqual({ version: rate, status: 'applied' });
    expect(settingsOf(rated)).toMatchObject({ source: UNPLUGGED, fps: 2 });

    const version = await hub.patchDesired('capture', { source: '/dev/video96' });
    const rejected = await hub.waitForReported('capture', (r) => lastDesiredOf(r)['version'] === version, 20_000);
    expect(lastDesiredOf(rejected)).toMatchObject({ status: 'rejected', error: "source: camera /dev/video96 does not exist on this device; in a container, pass it in with --device /dev/video96 (a deployment's createOptions HostConfig.Devices)" });
    expect(settingsOf(rejected)).toMatchObject({ source: UNPLUGGED });
  }, 90_000);
});
