import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, LineProcess } from '@iev/testing';
import { WORKSPACE_ROOT } from './module-process';

const SIMULATE = join(WORKSPACE_ROOT, 'tools/scripts/simulate.mjs');

interface UpstreamRecord {
  moduleId: string;
  properties: Record<string, string>;
}

/**
 * `npm run simulate -- --cameras 2` as a person runs it: genconfig makes the two-camera deployment (capture and
 * capture1, inference connected to both), and the edge simulator runs it, the built modules as IoT Edge modules
 * against the emulated edgeHub, the demo video for both cameras.
 */
describe('npm run simulate -- --cameras 2 (the generated two-camera deployment under the edge simulator)', () => {
  let dir: string;
  let outFile: string;
  let simulate: LineProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-simulate-cameras-'));
    outFile = join(dir, 'upstream.jsonl');
    simulate = new LineProcess(
      'simulate',
      process.execPath,
      [SIMULATE, '--cameras', '2', '--port', '0', '--workload-port', '0', '--state-dir', join(dir, 'state'), '--out', outFile],
      { cwd: WORKSPACE_ROOT, env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' } },
    );
    await simulate.waitForLine(/\[simulator\s*\] .*deployment\.2cameras\.\w+\.json: modules capture, capture1, inference, telemetry/, 120_000);
  }, 150_000);

  afterAll(async () => {
    await simulate?.stop('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a capture per camera from capture's one bundle, each on its own port, inference taking frames from both", async () => {
    await simulate.waitForLine(/\[simulator\s*\] capture1: FRAMES_BIND=tcp:\/\/\*:5565 → tcp:\/\/127\.0\.0\.1:5565/, 10_000);
    await simulate.waitForLine(
      /\[simulator\s*\] inference: FRAMES_CONNECT=tcp:\/\/capture:5555,tcp:\/\/capture1:5565 → tcp:\/\/127\.0\.0\.1:5555,tcp:\/\/127\.0\.0\.1:5565/,
      10_000,
    );
    await simulate.waitForLine(/\[capture1\s*\] /, 30_000);
  });

  it('sends both sources upstream, each message naming its sourceId', async () => {
    // The deployment's telemetry sums each source up every 10 s: both summaries within a few intervals of the model loading.
    const sourceIds = await eventually(
      () => {
        const records: UpstreamRecord[] = existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
        const seen = new Set(records.filter(({ moduleId }) => moduleId === 'telemetry').map(({ properties }) => properties['sourceId']));
        return seen.has('camera0') && seen.has('camera1') ? [...seen].sort() : undefined;
      },
      () => `upstream messages from camera0 and camera1 in ${outFile}`,
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    expect(sourceIds).toEqual(['camera0', 'camera1']);
  }, 160_000);
});

describe('npm run simulate -- --cameras with a manifest of its own', () => {
  it('refuses, since --cameras generates the manifest it runs, before building anything', () => {
    const run = spawnSync(process.execPath, [SIMULATE, '--cameras', '2', '--manifest', 'deployment/deployment.template.json'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--cameras generates the manifest it runs: leave out --manifest');
    expect(run.stderr).not.toContain('building');
  });
});
