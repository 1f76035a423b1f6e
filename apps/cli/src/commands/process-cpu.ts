import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * How a Node.js process's threads are grouped. Node.js 24 names its threads: `MainThread`, `WorkerThread` (worker_threads,
 * where the inference module runs ONNX Runtime; threads ONNX Runtime starts from there inherit the name),
 * `libuv-worker` (the fs/dns/crypto pool), `V8Worker` (GC helpers and the compiler), `DelayedTaskSche`,
 * `SignalInspector`; libzmq names its own (`ZMQbg/...`). Node.js 20 names none: every thread but the main one is
 * `node`, so it can only be counted as unnamed.
 */
export type ThreadGroup = 'main' | 'workers' | 'rest' | 'unnamed';

export function threadGroup(name: string, tid: number, pid: number): ThreadGroup {
  if (tid === pid) return 'main';
  if (name === 'WorkerThread') return 'workers';
  if (name === 'node') return 'unnamed';
  return 'rest';
}

/** One look at a process: its CPU time so far, each live thread's, and that of its child processes, live or ended. */
export interface CpuSnapshot {
  /** All its threads', ended ones too (the kernel keeps their time in the process's). */
  processCpuMs: number;
  threads: Map<number, { group: ThreadGroup; cpuMs: number }>;
  childrenCpuMs: number;
}

/**
 * CPU used between two snapshots of a process: in all (processMs), per thread group (only groups with a thread
 * alive at the second look, so a thread that ended in between is in processMs alone), and by its children.
 */
export interface CpuUsage {
  processMs: number;
  groups: Partial<Record<ThreadGroup, number>>;
  childrenMs: number;
}

let ticksPerSecond: number | undefined;

/** /proc's unit of CPU time, asked once (the CLI's other commands never need it). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // Linux's USER_HZ on every architecture Node.js runs on
    }
  }
  return ticksPerSecond;
}

/** The fields of a /proc stat line after the command name (which may hold spaces and parentheses), and the name. */
function readStat(path: string): { name: string; fields: string[] } {
  const stat = readFileSync(path, 'utf8');
  const close = stat.lastIndexOf(')');
  return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

// Indices into readStat's fields (proc(5) numbers them from 1, with pid and comm as 1 and 2).
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;
const ticksToMs = (fields: string[], from: number, to: number) => ((Number(fields[from]) + Number(fields[to])) * 1000) / clockTicksPerSecond();

/** `read()`, or undefined when the process or thread ended while we looked. */
function ifAlive<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const tasks = (pid: number) => ifAlive(() => readdirSync(`/proc/${pid}/task`).map(Number)) ?? [];

/** The direct child processes of `pid` (of any of its threads). */
function childPids(pid: number): number[] {
  return tasks(pid).flatMap((tid) => ifAlive(() => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) ?? []);
}

/**
 * CPU time of `pid`'s children: those that ended and were waited for (the kernel adds them to the parent's
 * cutime/cstime), and those alive with their own descendants, so a decoder restarted between two snapshots loses nothing.
 */
function childrenCpuMs(pid: number): number {
  const ended = ifAlive(() => ticksToMs(readStat(`/proc/${pid}/stat`).fields, CUTIME, CSTIME)) ?? 0;
  const alive = childPids(pid).map((child) => (ifAlive(() => ticksToMs(readStat(`/proc/${child}/stat`).fields, UTIME, STIME)) ?? 0) + childrenCpuMs(child));
  return alive.reduce((sum, ms) => sum + ms, ended);
}

/** Reads /proc/<pid>/task/<tid>/stat (utime + stime) and comm of every thread, and the children's CPU time. */
export function snapshotCpu(pid: number): CpuSnapshot {
  const threads = new Map<number, { group: ThreadGroup; cpuMs: number }>();
  for (const tid of tasks(pid)) {
    const stat = ifAlive(() => readStat(`/proc/${pid}/task/${tid}/stat`));
    if (stat) threads.set(tid, { group: threadGroup(stat.name, tid, pid), cpuMs: ticksToMs(stat.fields, UTIME, STIME) });
  }
  return { processCpuMs: processCpuMs(pid), threads, childrenCpuMs: childrenCpuMs(pid) };
}

/** The process's own CPU time so far, all its threads' (ended ones too), without a look at its threads or children. */
export function processCpuMs(pid: number): number {
  return ifAlive(() => ticksToMs(readStat(`/proc/${pid}/stat`).fields, UTIME, STIME)) ?? 0;
}

/** What was used from `before` to `after`; a thread born in between counts from zero. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const groups: CpuUsage['groups'] = {};
  for (const [tid, { group, cpuMs }] of after.threads) groups[group] = (groups[group] ?? 0) + cpuMs - (before.threads.get(tid)?.cpuMs ?? 0);
  return { processMs: after.processCpuMs - before.processCpuMs, groups, childrenMs: after.childrenCpuMs - before.childrenCpuMs };
}

/** Two usages added up (segments of one measurement). */
export function addCpu(a: CpuUsage, b: CpuUsage): CpuUsage {
  const groups: CpuUsage['groups'] = { ...a.groups };
  for (const [group, ms] of Object.entries(b.groups) as Array<[ThreadGroup, number]>) groups[group] = (groups[group] ?? 0) + ms;
  return { processMs: a.processMs + b.processMs, groups, childrenMs: a.childrenMs + b.childrenMs };
}

export const NO_CPU: CpuUsage = { processMs: 0, groups: {}, childrenMs: 0 };

/**
 * The whole machine's CPU time so far, every core added up. /proc/stat counts the host's cores (or the VM's), whatever
 * quota a container runs under.
 */
export interface MachineCpu {
  /** User, nice, system and interrupts (guest and guest_nice are already in user and nice). */
  busyMs: number;
  /** Idle, and waiting for I/O. */
  idleMs: number;
  /** Steal: time the hypervisor ran another guest while this VM had work for its cores. */
  stolenMs: number;
}

/** /proc/stat's first line, `cpu  user nice system idle iowait irq softirq steal guest guest_nice`; a field an older kernel leaves out counts 0. */
export function parseProcStat(text: string): MachineCpu {
  const line = text.split('\n', 1)[0];
  if (!/^cpu\s/.test(line)) throw new Error(`/proc/stat starts with ${JSON.stringify(line.slice(0, 40))}, not the cpu line`);
  const fields = line.trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = Array.from({ length: 8 }, (_, index) => Number(fields[index + 1] ?? 0));
  const ms = (ticks: number) => (ticks * 1000) / clockTicksPerSecond();
  return { busyMs: ms(user + nice + system + irq + softirq), idleMs: ms(idle + iowait), stolenMs: ms(steal) };
}

export function snapshotMachineCpu(): MachineCpu {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

export function machineCpuBetween(before: MachineCpu, after: MachineCpu): MachineCpu {
  return { busyMs: after.busyMs - before.busyMs, idleMs: after.idleMs - before.idleMs, stolenMs: after.stolenMs - before.stolenMs };
}

/** Two stretches added up (segments of one measurement). */
export function addMachineCpu(a: MachineCpu, b: MachineCpu): MachineCpu {
  return { busyMs: a.busyMs + b.busyMs, idleMs: a.idleMs + b.idleMs, stolenMs: a.stolenMs + b.stolenMs };
}

export const NO_MACHINE_CPU: MachineCpu = { busyMs: 0, idleMs: 0, stolenMs: 0 };
