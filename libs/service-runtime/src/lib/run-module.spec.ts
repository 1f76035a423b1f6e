import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids, isRunning } from '@iev/testing';
import { LOGS_SHOWN_BY_LAUNCHER } from './run-module';

// A module process as the apps run it (run-module.ts compiled as it loads): its start takes as long as MODULE_START_MS
// says (forever when unset, like a model that loads for minutes), or fails with MODULE_START_ERROR (after
// MODULE_START_ERROR_AFTER_MS); once started, its close() takes MODULE_CLOSE_MS, and it gives up MODULE_FATAL_AFTER_MS
// after its start (a fatal). With MODULE_WEDGED_THREAD_S, a worker thread started with the start is in a native
// call that long (a model that loads for minutes, a model run that does not return): Node.js's own exit would wait for it.
const MODULE_SCRIPT = `
process.env.SWC_NODE_PROJECT = ${JSON.stringify(join(__dirname, '../../../../tsconfig.base.json'))};
require(${JSON.stringify(require.resolve('@swc-node/register'))});
const { runModule } = require(${JSON.stringify(join(__dirname, 'run-module.ts'))});
const { env, readConfig } = require(${JSON.stringify(join(__dirname, 'env.ts'))});
const wait = (ms) => new Promise((resolve) => (ms === undefined ? setInterval(() => undefined, 1000) : setTimeout(resolve, Number(ms))));
runModule('spec', () => readConfig({ threads: env.integer('SPEC_THREADS', { min: 0, max: 8 }, 0), mode: env.oneOf('SPEC_MODE', ['fast', 'slow'], 'fast') }), async () => {
  if (process.env.MODULE_WEDGED_THREAD_S) {
    const { Worker } = require('node:worker_threads');
    new Worker("require('node:child_process').spawnSync('sleep', ['" + process.env.MODULE_WEDGED_THREAD_S + "'])", { eval: true });
  }
  process.stderr.write('starting\\n');
  if (process.env.MODULE_START_ERROR) {
    await wait(process.env.MODULE_START_ERROR_AFTER_MS ?? '0');
    throw new Error(process.env.MODULE_START_ERROR);
  }
  await wait(process.env.MODULE_START_MS);
  setInterval(() => undefined, 1000); // what a module serves keeps it running
  const fatal = process.env.MODULE_FATAL_AFTER_MS && wait(process.env.MODULE_FATAL_AFTER_MS).then(() => { throw new Error('a model run hung'); });
  return { close: () => wait(process.env.MODULE_CLOSE_MS), ...(fatal ? { fatal } : {}) };
}, process.env.MODULE_CLOSE_TIMEOUT_MS ? { closeTimeoutMs: Number(process.env.MODULE_CLOSE_TIMEOUT_MS) } : {});
`;

interface ModuleRun {
  child: ChildProcess;
  output: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runSpecModule(env: Record<string, string>): ModuleRun {
  const child = spawn(process.execPath, ['-e', MODULE_SCRIPT], { env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, stderr: () => stderr, exited };
}

async function waitForOutput(run: ModuleRun, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!run.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in: ${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('runModule (a real module process, real signals)', () => {
  jest.setTimeout(40_000);
  const runs: ModuleRun[] = [];
  afterEach(() => {
    for (const { child } of runs.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('ends a start still under way on SIGTERM, as a container pid 1 must, saying so', async () => {
    const run = runSpecModule({});
    runs.push(run);
    await waitForOutput(run, 'starting');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output()).toContain('SIGTERM during start-up: exiting');
  });

  it('takes a signal repeated at once as the same one, and one later as a demand to exit now', async () => {
    const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '60000' });
    runs.push(run);
    await waitForOutput(run, 'spec started');
    run.child.kill('SIGTERM');
    run.child.kill('SIGTERM'); // a Ctrl-C delivered twice: still closing
    await waitForOutput(run, 'SIGTERM: stopping spec');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.output()).toContain('SIGTERM again: exiting now');
  });

  it('exits with 1 when its close takes longer than the close timeout (a wedged handler), saying so', async () => {
    const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '60000', MODULE_CLOSE_TIMEOUT_MS: '1500' });
    runs.push(run);
    await waitForOutput(run, 'spec started');
    const stopping = performance.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(performance.now() - stopping).toBeGreaterThanOrEqual(1400);
    expect(run.output()).toContain('"msg":"spec did not stop within 1.5 s: exiting all the same"');
  });

  describe('with a worker thread stuck in a native call', () => {
    /** How long the call lasts: far longer than the module may take to exit. */
    const WEDGED_S = 40;
    /** The close timeout, and the most the exit may take after it (a node started to exit with the code). */
    const [CLOSE_TIMEOUT_MS, EXIT_MS] = [1500, 5000];
    /** The `sleep`s the stuck threads wait for: they outlive their module, and are ended after each spec. */
    const sleeps: number[] = [];
    afterEach(() => {
      for (const pid of sleeps.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    });
    /** Once the thread is in its native call (the `sleep` it waits for is running), where no exit can stop it. */
    const threadWedged = async (run: ModuleRun) => {
      while (childPids(run.child.pid as number, 'sleep').length === 0) await sleep(50);
      sleeps.push(...childPids(run.child.pid as number, 'sleep'));
    };
    const exitedWithin = async (run: ModuleRun, ms: number) => Promise.race([run.exited, sleep(ms, 'still running', { ref: false })]);

    it('exits with 1 after its close times out, though the thread is still stuck: its exit waits for no thread', async () => {
      const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '60000', MODULE_CLOSE_TIMEOUT_MS: String(CLOSE_TIMEOUT_MS), MODULE_WEDGED_THREAD_S: String(WEDGED_S) });
      runs.push(run);
      await waitForOutput(run, 'spec started');
      await threadWedged(run);
      run.child.kill('SIGTERM');

      expect(await exitedWithin(run, CLOSE_TIMEOUT_MS + EXIT_MS)).toEqual({ code: 1, signal: null });
      expect(run.output()).toContain('"msg":"spec did not stop within 1.5 s: exiting all the same"');
    });

    it('ends a start still under way on SIGTERM, though the thread is still stuck (a model loading, an engine building)', async () => {
      const run = runSpecModule({ MODULE_WEDGED_THREAD_S: String(WEDGED_S) });
      runs.push(run);
      await threadWedged(run);
      run.child.kill('SIGTERM');

      expect(await exitedWithin(run, EXIT_MS)).toEqual({ code: 0, signal: null });
      expect(run.output()).toContain('SIGTERM during start-up: exiting');
    });

    it('exits with 1 after a failed start, though a thread it started is still stuck (a model load it gave up on)', async () => {
      // The start fails 2 s in, its thread stuck by then.
      const run = runSpecModule({ MODULE_START_ERROR: 'no model', MODULE_START_ERROR_AFTER_MS: '2000', MODULE_WEDGED_THREAD_S: String(WEDGED_S) });
      runs.push(run);
      await threadWedged(run);

      expect(await exitedWithin(run, 2000 + EXIT_MS)).toEqual({ code: 1, signal: null });
      expect(run.stderr()).toContain('no model');
    });

    it('exits with 1 after a fatal though its close ended in time: what gave up (a hung model run) may hold a thread', async () => {
      const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '0', MODULE_FATAL_AFTER_MS: '1000', MODULE_WEDGED_THREAD_S: String(WEDGED_S) });
      runs.push(run);
      await waitForOutput(run, 'spec started');
      await threadWedged(run);

      expect(await exitedWithin(run, 1000 + EXIT_MS)).toEqual({ code: 1, signal: null });
      expect(run.output()).toContain('"msg":"spec stopped"');
    });

    it('exits with 1 at a signal repeated later, though the thread is still stuck', async () => {
      const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '60000', MODULE_WEDGED_THREAD_S: String(WEDGED_S) });
      runs.push(run);
      await waitForOutput(run, 'spec started');
      await threadWedged(run);
      run.child.kill('SIGTERM');
      await waitForOutput(run, 'SIGTERM: stopping spec');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      run.child.kill('SIGTERM');

      expect(await exitedWithin(run, EXIT_MS)).toEqual({ code: 1, signal: null });
      expect(run.output()).toContain('SIGTERM again: exiting now');
    });
  });

  it('stops with 0 when its close ends in time', async () => {
    const run = runSpecModule({ MODULE_START_MS: '0', MODULE_CLOSE_MS: '200', MODULE_CLOSE_TIMEOUT_MS: '1500' });
    runs.push(run);
    await waitForOutput(run, 'spec started');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output()).toContain('"msg":"spec stopped"');
  });

  it('reports a failed start in its log and as a plain line on stderr, once where a launcher shows the log as text', async () => {
    const alone = runSpecModule({ MODULE_START_ERROR: 'the model is missing' });
    const launched = runSpecModule({ MODULE_START_ERROR: 'the model is missing', [LOGS_SHOWN_BY_LAUNCHER]: '1' });
    runs.push(alone, launched);
    for (const run of [alone, launched]) {
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.output()).toContain('"msg":"spec start-up failed: the model is missing"');
    }
    expect(alone.stderr()).toBe('starting\nspec: start-up failed: the model is missing\n');
    expect(launched.stderr()).toBe('starting\n');
  });

  it("reports bad LOG_* variables with the module's own, all at once, before its start, in a log on the defaults", async () => {
    const run = runSpecModule({ LOG_FORMAT: 'syslog', LOG_SUMMARY_INTERVAL: 'abc', SPEC_THREADS: 'lots', SPEC_MODE: 'medium' });
    runs.push(run);
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toBe(
      [
        'spec: Invalid configuration:',
        '  - LOG_FORMAT must be one of json, iotedge (got "syslog")',
        '  - LOG_SUMMARY_INTERVAL must be an integer from 1 to 86400 (got "abc")',
        '  - SPEC_THREADS must be an integer from 0 to 8 (got "lots")',
        '  - SPEC_MODE must be one of fast, slow (got "medium")',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(run.output().split('\n')[0])).toMatchObject({ level: 60, msg: expect.stringContaining('spec start-up failed: Invalid configuration') });
  });
});
