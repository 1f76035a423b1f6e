import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { cpuBetween, machineCpuBetween, parseProcStat, processCpuMs, snapshotCpu, snapshotMachineCpu, threadGroup, type CpuUsage } from './process-cpu';

/**
 * Burns `ms` of CPU time as the process's own getrusage counts it: a share of wall time would depend on how busy
 * the machine is, CPU time does not.
 */
const burn = (ms: number) => `{ const start = process.cpuUsage(); const used = () => { const { user, system } = process.cpuUsage(start); return user + system; }; while (used() < ${ms * 1000}); }`;
const BURN_MS = 300;
/** /proc counts in clock ticks (10 ms), and the runtime's own threads do a little besides. */
const CLOCK_TICK_MS = 10;
const SLACK_MS = 40;

type Child = ChildProcessByStdio<Writable, Readable, null>;

/** A Node.js child running `script`, which prints a line when it has done its work; the first line says "ready". */
async function nodeChild(script: string): Promise<Child> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await nextLine(child, 'ready');
  return child;
}

async function nextLine(child: Child, expected: string): Promise<void> {
  const [data] = (await once(child.stdout, 'data')) as [Buffer];
  expect(data.toString()).toContain(expected);
}

/** What the child used from now until it says "done", once told to start on its stdin. */
async function usageOfWork(child: Child): Promise<CpuUsage> {
  const pid = child.pid ?? NaN;
  const before = snapshotCpu(pid);
  child.stdin.write('go\n');
  await nextLine(child, 'done');
  return cpuBetween(before, snapshotCpu(pid));
}

/** Ends the child and any process it started. */
async function stop(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  for (const grandchild of readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').split(' ').filter(Boolean)) process.kill(Number(grandchild), 'SIGKILL');
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

const onGo = (work: string) => `process.stdin.once('data', () => { ${work} }); console.log('ready'); setInterval(() => undefined, 1000);`;

describe('snapshotCpu (real /proc of real processes)', () => {
  // CPU time, not wall time, is what the children must get: on a loaded machine that takes a while.
  jest.setTimeout(30_000);
  let child: Child | undefined;
  afterEach(async () => {
    if (child) await stop(child);
    child = undefined;
  });

  it("counts the main thread's CPU time as the main group's", async () => {
    child = await nodeChild(onGo(`${burn(BURN_MS)} console.log('done');`));
    const usage = await usageOfWork(child);
    expect(usage.groups.main).toBeGreaterThanOrEqual(BURN_MS - SLACK_MS);
    expect(usage.groups.main).toBeLessThanOrEqual(BURN_MS + SLACK_MS);
    // The kernel adjusts the process's total and each thread's tick counts to their run time separately, each
    // rounded to ticks: they may differ by a tick or two (seen in CI: 300 against 310, 290 against 310).
    expect(usage.processMs).toBeGreaterThanOrEqual((usage.groups.main ?? NaN) - 2 * CLOCK_TICK_MS);
    expect(usage.childrenMs).toBe(0);
  });

  /** A child whose worker thread burns BURN_MS when told, then waits on (`stays`) or ends before the child says done. */
  const workerChild = (stays: boolean) =>
    nodeChild(`
      const { Worker } = require('node:worker_threads');
      const worker = new Worker(${JSON.stringify(`const { parentPort } = require('node:worker_threads'); parentPort.once('message', () => { ${burn(BURN_MS)} parentPort.postMessage('done'); ${stays ? 'setInterval(() => undefined, 1000);' : ''} });`)}, { eval: true });
      worker.on(${JSON.stringify(stays ? 'message' : 'exit')}, () => console.log('done'));
      worker.on('online', () => console.log('ready'));
      process.stdin.once('data', () => worker.postMessage('go'));`);

  it('counts a worker thread apart from the main thread: as workers where Node.js names its threads, else unnamed', async () => {
    child = await workerChild(true);
    const namesThreads = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'MainThread';
    const usage = await usageOfWork(child);
    expect(usage.groups[namesThreads ? 'workers' : 'unnamed']).toBeGreaterThanOrEqual(BURN_MS - SLACK_MS);
    expect(usage.groups.main).toBeLessThan(SLACK_MS);
  });

  it("keeps a thread that ended between two looks in the process's total", async () => {
    child = await workerChild(false);
    const ownBefore = processCpuMs(child.pid ?? NaN);
    const usage = await usageOfWork(child);
    expect(usage.groups.unnamed ?? usage.groups.workers ?? 0).toBeLessThan(SLACK_MS);
    expect(usage.processMs).toBeGreaterThanOrEqual(BURN_MS - SLACK_MS);
    expect(processCpuMs(child.pid ?? NaN) - ownBefore).toBeGreaterThanOrEqual(BURN_MS - SLACK_MS);
  });

  it("counts a child process's CPU time, alive or ended between two looks (a decoder restarted), apart from its parent's", async () => {
    child = await nodeChild(
      onGo(`
        const { spawn } = require('node:child_process');
        const stays = spawn(process.execPath, ['-e', ${JSON.stringify(`${burn(BURN_MS)} console.log('done'); setInterval(() => undefined, 1000);`)}], { stdio: ['ignore', 'pipe', 'ignore'] });
        const ends = spawn(process.execPath, ['-e', ${JSON.stringify(burn(BURN_MS))}], { stdio: 'ignore' });
        Promise.all([new Promise((resolve) => stays.stdout.once('data', resolve)), new Promise((resolve) => ends.once('exit', resolve))]).then(() => console.log('done'));`),
    );
    const ownBefore = processCpuMs(child.pid ?? NaN);
    const usage = await usageOfWork(child);
    expect(usage.childrenMs).toBeGreaterThanOrEqual(2 * BURN_MS - SLACK_MS);
    // The process's own time alone, as the bench reads its own: the children's burn is not in it.
    expect(processCpuMs(child.pid ?? NaN) - ownBefore).toBeLessThan(100);
    // Each child's own start-up (loading Node.js) counts too.
    expect(usage.childrenMs).toBeLessThanOrEqual(2 * BURN_MS + 500);
    expect(usage.groups.main).toBeLessThan(100);
  });
});

describe('parseProcStat', () => {
  const ticks = (count: number) => (count * 1000) / 100; // USER_HZ, 100 on every architecture Node.js runs on

  it('counts user, nice, system and interrupts as busy, idle and iowait as idle, steal apart, guest time once', () => {
    const line = 'cpu  1000 20 300 5000 40 6 7 80 900 10';
    expect(parseProcStat(`${line}\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 12345\n`)).toEqual({ busyMs: ticks(1000 + 20 + 300 + 6 + 7), idleMs: ticks(5000 + 40), stolenMs: ticks(80) });
  });

  it('counts fields an older kernel leaves out as 0', () => {
    expect(parseProcStat('cpu 10 0 5 100\n')).toEqual({ busyMs: ticks(15), idleMs: ticks(100), stolenMs: 0 });
  });

  it('refuses a file that does not start with the cpu line', () => {
    expect(() => parseProcStat('intr 1 2 3\ncpu 1 2 3 4\n')).toThrow(/not the cpu line/);
  });
});

describe('snapshotMachineCpu (the real /proc/stat)', () => {
  it("counts every core's time, busy, idle or stolen, and a burn as busy time", async () => {
    const child = await nodeChild(onGo(`${burn(BURN_MS)} console.log('done');`));
    try {
      const before = snapshotMachineCpu();
      const from = performance.now();
      child.stdin.write('go\n');
      await nextLine(child, 'done');
      const used = machineCpuBetween(before, snapshotMachineCpu());
      const coresMs = (performance.now() - from) * readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d/.test(line)).length;
      expect(used.busyMs).toBeGreaterThanOrEqual(BURN_MS - SLACK_MS);
      expect(used.busyMs).toBeLessThanOrEqual(coresMs + SLACK_MS);
      // The kernel adds each core's ticks up rounded, and a busy VM may lose a few: within 5 % and a few ticks.
      const counted = used.busyMs + used.idleMs + used.stolenMs;
      expect(Math.abs(counted - coresMs)).toBeLessThanOrEqual(coresMs * 0.05 + 5 * CLOCK_TICK_MS);
    } finally {
      await stop(child);
    }
  });
});

describe('threadGroup', () => {
  it("groups Node.js 24's thread names, and Node.js 20's unnamed threads apart", () => {
    expect(threadGroup('MainThread', 10, 10)).toBe('main');
    expect(threadGroup('node', 10, 10)).toBe('main');
    expect(threadGroup('WorkerThread', 11, 10)).toBe('workers');
    for (const name of ['libuv-worker', 'V8Worker', 'DelayedTaskSche', 'SignalInspector', 'ZMQbg/IO/0']) expect(threadGroup(name, 12, 10)).toBe('rest');
    expect(threadGroup('node', 13, 10)).toBe('unnamed');
  });
});
