import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from '@iev/testing';
import { boundToThisProcess, whyCommandsOutliveThisProcess } from './parent-death';

const SLEEP = '/bin/sleep';
const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const exitOf = (child: ChildProcess) => new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

/** util-linux 2.33 or later (Debian 12 has 2.38): where it is older or missing, what needs it cannot be checked here. */
const SETPRIV_BINDS = spawnSync('setpriv', ['--pdeathsig', 'INT', '--', 'true']).status === 0;
const withSetpriv = SETPRIV_BINDS ? it : it.skip;
const needsSetpriv = SETPRIV_BINDS ? '' : ' (skipped: no setpriv with --pdeathsig here)';

describe('boundToThisProcess', () => {
  withSetpriv(`runs the command in setpriv's place where setpriv binds it: the same pid, which takes our signals itself${needsSetpriv}`, async () => {
    expect(await whyCommandsOutliveThisProcess()).toBeUndefined();

    const { path, args } = await boundToThisProcess(SLEEP, ['30']);
    const child = spawn(path, args, { stdio: 'ignore' });
    const exit = exitOf(child);
    // setpriv's own command line until it has exec'd the command.
    const command = await eventually(() => (commandOf(child.pid as number)[0] === SLEEP ? commandOf(child.pid as number) : undefined), 'setpriv to exec the command');
    child.kill('SIGTERM');

    expect(command).toEqual([SLEEP, '30']);
    expect(await exit).toBe('SIGTERM');
  });

  withSetpriv(
    `has the command stopped by SIGINT, its stop signal, when the process that spawned it dies by SIGKILL${needsSetpriv}`,
    async () => {
      // SIGINT lets gst-launch take its pipeline down to NULL, closing a camera properly; SIGKILL would leave no word.
      const folder = mkdtempSync(join(tmpdir(), 'iev-pdeathsig-'));
      const [marker, ready] = [join(folder, 'signal'), join(folder, 'ready')];
      // Ready once its trap is set: a signal between exec and the trap would end the shell without a word (CI's loaded
      // machine killed the parent in that gap, waiting for the exec alone).
      const command = `trap 'echo INT > ${marker}; exit 0' INT; touch ${ready}; while :; do sleep 0.05; done`;
      expect(await whyCommandsOutliveThisProcess()).toBeUndefined();
      const { path, args } = await boundToThisProcess('/bin/sh', ['-c', command]);
      // A plain node process spawns it as capture does, and is killed: no compiler to start, so no wait on a loaded machine.
      const script = `console.log(require('node:child_process').spawn(${JSON.stringify(path)}, ${JSON.stringify(args)}, { stdio: 'ignore' }).pid)`;
      const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pid = Number(await new Promise<string>((resolve) => parent.stdout?.once('data', (data: Buffer) => resolve(data.toString()))));

      try {
        await eventually(() => (commandOf(pid)[0] === '/bin/sh' ? true : undefined), 'setpriv to exec the command', { timeoutMs: 8_000 });
        await eventually(() => (existsSync(ready) ? true : undefined), 'the command to set its trap', { timeoutMs: 8_000 });
        parent.kill('SIGKILL');

        const told = await eventually(() => (existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined), 'the command to be told its parent died', { timeoutMs: 8_000 });
        expect(told).toBe('INT');
      } finally {
        // Whatever failed, neither is left running.
        parent.kill('SIGKILL');
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already, as it should be
        }
        rmSync(folder, { recursive: true, force: true });
      }
    },
    20_000,
  );

  it('leaves the command as given where setpriv is missing, and says why once, for the first pipeline, naming the version that has it', () => {
    // In a process of its own, whose PATH has node alone: the check is made once a process.
    const script = `
      const { boundToThisProcess, warnIfGstLaunchOutlivesThisProcess } = require('./libs/capture-sources/src/lib/parent-death');
      (async () => {
        await warnIfGstLaunchOutlivesThisProcess('file', { warn: (message) => console.log('warn: ' + message) });
        await warnIfGstLaunchOutlivesThisProcess('gstreamer', { warn: (message) => console.log('warn: ' + message) });
        await warnIfGstLaunchOutlivesThisProcess('gstreamer', { warn: (message) => console.log('warn: ' + message) });
        console.log(JSON.stringify(await boundToThisProcess('${SLEEP}', ['30'])));
      })();`;

    const printed = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script], {
      cwd: join(__dirname, '../../../..'),
      env: { ...process.env, TS_NODE_PROJECT: 'libs/capture-sources/tsconfig.spec.json', PATH: dirname(process.execPath) },
      encoding: 'utf8',
    });

    expect(printed.trim().split('\n')).toEqual([
      expect.stringMatching(/^warn: gst-launch-1\.0 is not bound to this module \(setpriv --pdeathsig does not run here \(spawn setpriv ENOENT\): it needs util-linux 2\.33 or later\): /),
      JSON.stringify({ path: SLEEP, args: ['30'] }),
    ]);
  });
});
