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

/** `npm run simulate -- <args>` as a person runs it, writing what goes upstream to a file of its own. */
function simulating(args: string[], modulesLine: RegExp) {
  const run: { dir?: string; outFile?: string; simulate?: LineProcess } = {};
  beforeAll(async () => {
    run.dir = mkdtempSync(join(tmpdir(), 'iev-simulate-cameras-'));
    run.outFile = join(run.dir, 'upstream.jsonl');
    run.simulate = new LineProcess(
      'simulate',
      process.execPath,
      [SIMULATE, ...args, '--port', '0', '--workload-port', '0', '--state-dir', join(run.dir, 'state'), '--out', run.outFile],
      { cwd: WORKSPACE_ROOT, env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' } },
    );
    // It builds four modules first, for real under CI (NX_SKIP_NX_CACHE): 120 s ran out once beside other suites.
    await run.simulate.waitForLine(modulesLine, 240_000);
  }, 270_000);

  afterAll(async () => {
    await run.simulate?.stop('SIGINT');
    if (run.dir) rmSync(run.dir, { recursive: true, force: true });
  });
  return run as Required<typeof run>;
}

/** Waits until telemetry has sent both cameras' summaries upstream (every 10 s in the deployment); their source ids. */
function upstreamSources(outFile: string): Promise<string[]> {
  return eventually(
    () => {
      const records: UpstreamRecord[] = existsSync(outFile) ? readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
      const seen = new Set(records.filter(({ moduleId }) => moduleId === 'telemetry').map(({ properties }) => properties['sourceId']));
      return seen.has('camera0') && seen.has('camera1') ? [...seen].sort() : undefined;
    },
    () => `upstream messages from camera0 and camera1 in ${outFile}`,
    { timeoutMs: 150_000, intervalMs: 500 },
  );
}

/**
 * `npm run simulate -- --cameras 2`: genconfig makes the two-camera deployment (capture and capture1, inference
 * connected to both), and the edge simulator runs it, the built modules as IoT Edge modules against the emulated
 * edgeHub, the demo video for both cameras.
 */
describe('npm run simulate -- --cameras 2 (the generated two-camera deployment under the edge simulator)', () => {
  const run = simulating(['--cameras', '2'], /\[simulator\s*\] .*deployment\.2cameras\.\w+\.json: modules capture, capture1, inference, telemetry/);

  it("runs a capture per camera from capture's one bundle, each on its own port, inference taking frames from both", async () => {
    await run.simulate.waitForLine(/\[simulator\s*\] capture1: FRAMES_BIND=tcp:\/\/\*:5565 → tcp:\/\/127\.0\.0\.1:5565/, 10_000);
    await run.simulate.waitForLine(
      /\[simulator\s*\] inference: FRAMES_CONNECT=tcp:\/\/capture:5555,tcp:\/\/capture1:5565 → tcp:\/\/127\.0\.0\.1:5555,tcp:\/\/127\.0\.0\.1:5565/,
      10_000,
    );
    await run.simulate.waitForLine(/\[capture1\s*\] /, 30_000);
  });

  it('sends both sources upstream, each message naming its sourceId', async () => {
    expect(await upstreamSources(run.outFile)).toEqual(['camera0', 'camera1']);
  }, 160_000);
});

/**
 * `npm run simulate -- --cameras 2 --in-process`: genconfig folds the captures into inference (CAPTURE_SOURCES), and
 * inference, taking the generated entries as they are, decodes both cameras itself.
 */
describe('npm run simulate -- --cameras 2 --in-process (inference decoding the cameras, under the edge simulator)', () => {
  const run = simulating(['--cameras', '2', '--in-process'], /\[simulator\s*\] .*deployment\.2cameras\.inprocess\.\w+\.json: modules inference, telemetry, preview/);

  it("gives inference both cameras, each missing device swapped for the demo video, and no capture module", async () => {
    await run.simulate.waitForLine(/\[simulator\s*\] inference: CAPTURE_SOURCES\[1\]\.CAMERA_PATH=\/dev\/video1 → \S+demo\.mp4/, 10_000);
    expect(run.simulate.output.some((line) => /^\[capture/.test(line))).toBe(false);
  });

  it('sends both sources upstream, each message naming its sourceId', async () => {
    expect(await upstreamSources(run.outFile)).toEqual(['camera0', 'camera1']);
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

describe('npm run simulate -- <options> <command> (to a running simulator, from another terminal)', () => {
  it('builds none of the modules a run would start, wherever the options stand', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'simulate-command-'));
    try {
      const run = spawnSync(process.execPath, [SIMULATE, '--state-dir', stateDir, 'modules'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`no simulator is running with state dir ${stateDir}`);
      expect(run.stderr).not.toContain('building');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
