import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { reniceProcess } from './process-priority';

/** Each thread's nice value, field 19 of /proc/<pid>/task/<tid>/stat (after the command name in parentheses). */
const niceOfThreads = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });

describe('reniceProcess', () => {
  let child: ChildProcessByStdio<Writable, Readable, null>;
  let pid: number;

  beforeEach(async () => {
    // A Node.js process with its usual threads (V8's platform workers), and a libuv pool started on request.
    child = spawn(process.execPath, ['-e', "process.stdin.on('data', () => require('node:crypto').pbkdf2('x', 'y', 1, 8, 'sha1', () => console.log('pool')));console.log('up')"], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    pid = child.pid as number;
  });

  afterEach(() => child.kill());

  it('sets every thread of a running process, and threads it starts later inherit it', async () => {
    const before = niceOfThreads(pid);
    expect(before.length).toBeGreaterThan(1);
    // Relative to where the test runs (CI may run it niced already); lowering a priority needs no privilege.
    const lower = Math.min(19, Math.max(...before) + 5);
    expect(lower).toBeGreaterThan(Math.max(...before));

    expect(reniceProcess(lower, pid)).toBe(before.length);
    expect(niceOfThreads(pid)).toEqual(before.map(() => lower));

    child.stdin.write('go\n');
    await once(child.stdout, 'data');
    const after = niceOfThreads(pid);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.every((nice) => nice === lower)).toBe(true);
  });

  it('leaves a thread that is already lower priority where it is', () => {
    const low = Math.min(19, Math.max(...niceOfThreads(pid)) + 6);
    reniceProcess(low, pid);
    reniceProcess(low - 3, pid);
    expect(new Set(niceOfThreads(pid))).toEqual(new Set([low]));
  });
});
