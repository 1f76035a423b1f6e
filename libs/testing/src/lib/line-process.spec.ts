import { LineProcess } from './line-process';
import { childPids, isRunning } from './processes';

const node = (name: string, script: string) => new LineProcess(name, process.execPath, ['-e', script]);

describe('LineProcess (a real child process)', () => {
  it('collects stdout and stderr lines, alone and in arrival order, and finds a line by pattern', async () => {
    const child = node('printer', `console.log('one'); console.error('two'); setTimeout(() => console.log('port=4242'), 50);`);
    expect((await child.waitForLine(/port=(\d+)/))[1]).toBe('4242');
    expect(await child.exited).toBe(0);
    expect(child.stdout).toEqual(['one', 'port=4242']);
    expect(child.stderr).toEqual(['two']);
    expect(child.output).toHaveLength(3);
  });

  it('hands the stdout lines so far to waitFor, and returns what it picks', async () => {
    const child = node('counter', `let n = 0; const t = setInterval(() => { console.log(String(n++)); if (n === 5) clearInterval(t); }, 10);`);
    expect(await child.waitFor((lines) => (lines.length >= 3 ? lines.slice(0, 3) : undefined), 'three lines')).toEqual(['0', '1', '2']);
    await child.exited;
  });

  it('fails at once, quoting the output, when the process exits before printing what is awaited', async () => {
    const child = node('quitter', `console.error('cannot start: no model'); process.exit(3);`);
    await expect(child.waitForLine(/started/, 20_000)).rejects.toThrow('quitter exited (3) waiting for /started/; last output:\ncannot start: no model');
  });

  it('fails after the timeout, naming what it waited for', async () => {
    const child = node('sleeper', `console.log('waiting'); setTimeout(() => undefined, 10_000);`);
    await child.waitForLine(/waiting/);
    await expect(child.waitForLine(/never/, 200)).rejects.toThrow('sleeper: timed out waiting for /never/; last output:\nwaiting');
    expect(await child.stop('SIGKILL')).toBeNull();
  });

  it('stops with a signal the process may handle, and gives its exit code', async () => {
    const child = node('graceful', `process.on('SIGINT', () => { console.log('bye'); process.exit(0); }); console.log('ready'); setInterval(() => undefined, 1000);`);
    await child.waitForLine(/ready/);
    const pid = child.child.pid ?? 0;
    expect(isRunning(pid)).toBe(true);
    expect(await child.stop()).toBe(0);
    expect(isRunning(pid)).toBe(false);
    expect(child.stdout.at(-1)).toBe('bye');
    expect(await child.stop()).toBe(0); // already stopped: just the code
  });
});

describe('childPids', () => {
  it("lists a process's children, by name when asked", async () => {
    const sleeper = new LineProcess('sleeper', 'sleep', ['30']);
    const pid = sleeper.child.pid ?? 0;
    expect(childPids(process.pid)).toContain(pid);
    expect(childPids(process.pid, 'sleep')).toContain(pid);
    expect(childPids(process.pid, 'no-such-process-name')).toEqual([]);
    await sleeper.stop('SIGKILL');
    expect(childPids(process.pid)).not.toContain(pid);
  });
});
