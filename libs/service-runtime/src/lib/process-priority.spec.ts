import { spawn, type ChildProcess } from 'node:child_process';
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
  let child: ChildProcess;

  beforeEach(async () => {
    // A Node.js process with its usual threads (V8's platform workers), and a libuv pool started on request.
    child = spawn(process.execPath, ['-e', "process.stdin.on('data', () => require('node:crypto').pbkdf2('x', 'y', 1, 8, 'sha1', () => console.log('pool')));console.log('up')"], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
  });

  afterEach(() => child.kill());

  it('sets every thread of a running process, and threads it starts later inherit it', async () => {
    const before = niceOfThreads(child.pid!);
    expect(before.length).toBeGreaterThan(1);
    // Relative to where the test runs (CI may run it niced already); lowering a priority needs no privilege.
    const lower = Math.min(19, Math.max(...before) + 5);
    expect(lower).toBeGreaterThan(Math.max(...before));

    expect(reniceProcess(lower, child.pid)).toBe(before.length);
    expect(niceOfThreads(child.pid!)).toEqual(before.map(() => lower));

    child.stdin!.write('go\n');
    await once(child.stdout!, 'data');
    const after = niceOfThreads(child.pid!);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.every((nice) => nice === lower)).toBe(true);
  });

  it('leaves a thread that is already lower priority where it is', () => {
    const low = Math.min(19, Math.max(...niceOfThreads(child.pid!)) + 6);
    reniceProcess(low, child.pid);
    reniceProcess(low - 3, child.pid);
    expect(new Set(niceOfThreads(child.pid!))).toEqual(new Set([low]));
  });
});
