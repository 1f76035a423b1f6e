import { createMetricsRegistry, startObservabilityServer, type ObservabilityServer } from '@iev/service-runtime';
import { LineProcess, waitUntil } from '@iev/testing';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import { CAPTURE_DECODED_FRAMES_METRIC, lookAt } from './bench-modules';

describe('lookAt (a real metrics server of the modules\' kind, this process as the module)', () => {
  let server: ObservabilityServer;
  afterEach(() => server?.close());

  it("reads the main thread's GC time from prom-client's default metrics, the decoded frames, and the threads' CPU", async () => {
    const registry = createMetricsRegistry('capture');
    const decoded = new Counter({ name: CAPTURE_DECODED_FRAMES_METRIC, help: 'frames', registers: [registry] });
    decoded.inc(12);
    server = await startObservabilityServer({ port: 0, registry, health: () => ({ healthy: true }) });
    // Garbage enough for a few collections, which prom-client times as they happen.
    let kept = 0;
    for (let i = 0; i < 200_000; i++) kept += new Array(64).fill(i).length;
    expect(kept).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const look = await lookAt({ label: 'capture', process: { pid: process.pid } as ChildProcess, metricsPort: server.port });
    expect(look.gcMs).toBeGreaterThan(0);
    expect(look.framesDecoded).toBe(12);
    expect(look.cpu.threads.get(process.pid)?.group).toBe('main');
    expect(look.cpu.threads.get(process.pid)?.cpuMs).toBeGreaterThan(0);
  });
});

// A bench stage in a process of its own, as the CLI runs it (bench-modules.ts compiled as it loads): it starts the
// module app "sleeper" of the workspace given, prints the stage's folder and the module's pid, then waits for a
// segment that never ends, as the bench would wait for one of its own.
const STAGE_SCRIPT = `
process.env.SWC_NODE_PROJECT = process.env.TS_NODE_PROJECT = ${JSON.stringify(join(__dirname, '../../../../tsconfig.base.json'))};
${['@swc-node/register', 'tsconfig-paths/register'].map((hook) => `require(${JSON.stringify(require.resolve(hook))});`).join('\n')}
const { runBenchStage } = require(${JSON.stringify(join(__dirname, 'bench-modules.ts'))});
runBenchStage('iev-bench-spec-', console.log, async (stage) => {
  const { process: child } = await stage.startModule(process.argv[1], 'sleeper', {});
  console.log(JSON.stringify({ dir: stage.dir, pid: child.pid }));
  await stage.unlessInterrupted(new Promise(() => undefined));
}).catch((error) => {
  console.log('error: ' + error.message);
  process.exit(1);
});
`;

// The module: says when it is ready; on SIGTERM, notes it in SLEEPER_STOPPED and exits, unless told to hang.
const SLEEPER = `
process.on('SIGTERM', () => {
  if (process.env.SLEEPER_HANGS) return;
  require('node:fs').writeFileSync(process.env.SLEEPER_STOPPED, 'SIGTERM');
  process.exit(0);
});
setInterval(() => undefined, 1000);
process.stderr.write('sleeper ready\\n');
`;

/**
 * The process's exit code, or the signal that ended it. Not LineProcess.exited: that waits for its output to end, and
 * a module left running holds the stderr it shares.
 */
function exitOf({ child }: LineProcess): Promise<number | NodeJS.Signals | null> {
  const status = () => child.exitCode ?? child.signalCode;
  return status() !== null ? Promise.resolve(status()) : new Promise((resolve) => child.once('exit', () => resolve(status())));
}

/** Whether the process has ended: no such pid, or a zombie nobody has reaped yet. */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

describe('runBenchStage (a real stage process, a real module process, real signals)', () => {
  jest.setTimeout(60_000);
  let workspace: string;
  let running: { stage: LineProcess; dir: string; pid: number } | undefined;

  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'cli-stage-'));
    mkdirSync(join(workspace, 'dist/apps/sleeper'), { recursive: true });
    writeFileSync(join(workspace, 'dist/apps/sleeper/main.js'), SLEEPER);
  });
  afterEach(async () => {
    // The module first: while it runs, it holds the stderr it shares with the stage.
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) if (running && !ended(running.pid)) process.kill(running.pid, signal);
    await running?.stage.stop('SIGKILL');
    for (const dir of [workspace, running?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
    running = undefined;
  });

  /** The stage running with its module paused (SIGSTOP), as the bench pauses capture and the inference not measured. */
  async function startPausedStage(env: Record<string, string>): Promise<{ stage: LineProcess; dir: string; pid: number }> {
    const stage = new LineProcess('stage', process.execPath, ['-e', STAGE_SCRIPT, workspace], { env: { ...process.env, ...env } });
    const parse = (line: string) => (line.startsWith('{') ? (JSON.parse(line) as { dir: string; pid: number }) : undefined);
    const { dir, pid } = await stage.waitFor((lines) => lines.map(parse).find(Boolean), 'the stage');
    running = { stage, dir, pid };
    await stage.waitForLine(/^sleeper ready$/);
    process.kill(pid, 'SIGSTOP');
    return { stage, dir, pid };
  }

  it('on SIGINT, stops its paused module and removes its folder, then fails; the same signal again at once is that one', async () => {
    const stopped = join(workspace, 'stopped');
    const { stage, dir, pid } = await startPausedStage({ SLEEPER_STOPPED: stopped });
    expect(existsSync(dir)).toBe(true);

    // A terminal's Ctrl-C under npm: the process group's SIGINT, and npm's and run-cli.mjs's.
    for (let i = 0; i < 3; i++) stage.child.kill('SIGINT');

    expect(await exitOf(stage)).toBe(1);
    await stage.waitForLine(/^error: the bench was interrupted \(SIGINT\)$/);
    expect(stage.stdout).toContain("SIGINT: stopping the bench's modules (another SIGINT or SIGTERM kills them at once)");
    expect(readFileSync(stopped, 'utf8')).toBe('SIGTERM'); // resumed and stopped, not killed
    await waitUntil(() => ended(pid), 'the module to end');
    expect(existsSync(dir)).toBe(false);
  });

  it('on another signal a second later, while the clean-up hangs, kills its paused module and exits at once', async () => {
    const { stage, dir, pid } = await startPausedStage({ SLEEPER_HANGS: 'yes' });
    stage.child.kill('SIGTERM');
    await stage.waitForLine(/^SIGTERM: stopping the bench's modules/);
    await sleep(1500); // the module, resumed, ignores SIGTERM: the clean-up waits for it
    expect(stage.running).toBe(true);

    stage.child.kill('SIGTERM');

    expect(await exitOf(stage)).toBe(1);
    await waitUntil(() => ended(pid), 'the module to end');
    expect(existsSync(dir)).toBe(false);
  });
});
