// `npm start`'s launcher (tools/scripts/start.mjs and lib/process-group.mjs, plain ES modules run in their own
// Node.js, as the script is): its usage, and how it shows and follows the module processes it runs.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';

const PROCESS_GROUP_MODULE = join(WORKSPACE_ROOT, 'tools/scripts/lib/process-group.mjs');

/**
 * Runs `body` (an ES module body with `group`, lib/process-group.mjs, in scope, and `input` parsed) and returns what it
 * prints.
 */
function withProcessGroup(body: string, input: unknown = null): string {
  const script = `const group = await import(${JSON.stringify(PROCESS_GROUP_MODULE)});\nconst input = JSON.parse(process.argv[1]);\n${body}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(input)], { encoding: 'utf8', timeout: 20_000 });
}

interface ModuleBehaviour {
  /** Exits with this code once it has logged, or runs on. */
  exitCode?: number;
  /** Logs this long after it started (its bundle loading, a model). */
  afterMs?: number;
  /** Runs a process of its own first (an ffmpeg), which shares its process group. */
  runsChild?: boolean;
}

/** A module process that logs these messages (pino JSON, as runModule's logger) and behaves so. */
const moduleLogging = (name: string, messages: { level: number; msg: string }[], { exitCode, afterMs = 0, runsChild = false }: ModuleBehaviour = {}) => {
  const logs = messages.map((message) => `console.log(${JSON.stringify(JSON.stringify(message))});`).join('');
  const then = exitCode === undefined ? 'setInterval(() => {}, 1000);' : `process.exitCode = ${exitCode};`;
  const child = runsChild ? "require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' });" : '';
  return { name, args: ['-e', `${child}setTimeout(() => { ${logs}${then} }, ${afterMs});`] };
};

describe("npm start's launcher", () => {
  it('answers --help and -h with its usage, the variables it sets per module included, and starts nothing', () => {
    for (const flag of ['--help', '-h']) {
      const usage = execFileSync(process.execPath, [join(WORKSPACE_ROOT, 'tools/scripts/start.mjs'), flag], { encoding: 'utf8' });
      expect(usage).toMatch(/^usage: npm start /);
      expect(usage).toContain('CAMERAS=N           the demo video (or CAMERA_PATH) as N sources instead, N from 1 to 10');
      expect(usage).toContain("METRICS_PORT=N      the modules' metrics and health ports numbered from N (default 9101): capture N, inference N+1,");
      expect(usage).toContain('--in-process        inference decodes the cameras itself (CAPTURE_SOURCES)');
      expect(usage).not.toContain('building');
    }
  });

  it("prints each line of a module's message of several lines (a configuration error's list) with its name", () => {
    const printed = withProcessGroup(`
      const print = group.createPrinter(['inference', 'preview']);
      print('inference', JSON.stringify({ level: 60, msg: 'inference start-up failed: Invalid configuration:\\n  - DETECTION_PRESET must be one of seed, default (got "fast")' }));`);
    expect(printed).toBe('[inference] FATAL inference start-up failed: Invalid configuration:\n[inference]   - DETECTION_PRESET must be one of seed, default (got "fast")\n');
  });

  it("takes the preview's address from the preview's own line, whatever LOG_FORMAT: the port it picked for PREVIEW_PORT=0, an IPv6 host in brackets", () => {
    const lines = [
      JSON.stringify({ level: 30, msg: 'preview on http://127.0.0.1:39253/', address: 'http://127.0.0.1:39253/' }),
      '<6> 2026-12-07 04:00:00.000 +00:00 [INF] - preview on http://[::1]:8080/ (address=http://[::1]:8080/, fps=5)',
      JSON.stringify({ level: 30, msg: 'preview started' }),
      JSON.stringify({ level: 30, msg: 'preview on a hill' }),
    ];
    const printed = withProcessGroup(`for (const line of input) console.log(String(group.previewAddress(line)));`, lines);
    expect(printed).toBe('http://127.0.0.1:39253/\nhttp://[::1]:8080/\nundefined\nundefined\n');
  });

  it('tells its modules it shows their logs, so that a failure is printed once (runModule)', () => {
    const printed = withProcessGroup(`
      const { done } = group.runProcessGroup([{ name: 'capture', args: ['-e', 'console.log(process.env.IEV_LOGS_SHOWN_BY_LAUNCHER)'] }], { print: (name, line) => console.log(line) });
      await done;`);
    expect(printed.split('\n')[0]).toBe('1');
  });

  it('says all have started (for the preview address) once every module has logged so, and never when one fails first', () => {
    const captureStarted = moduleLogging('capture', [{ level: 30, msg: 'capture started' }]);
    const runs = {
      starting: [captureStarted, moduleLogging('inference', [{ level: 30, msg: 'loading the model' }, { level: 30, msg: 'inference started' }])],
      failing: [captureStarted, moduleLogging('inference', [{ level: 60, msg: 'inference start-up failed: Invalid configuration' }], { exitCode: 1 })],
    };
    const printed = withProcessGroup(
      `
      for (const specs of [input.starting, input.failing]) {
        const run = group.runProcessGroup(specs, { print: () => undefined });
        console.log(await Promise.race([run.started.then(() => 'started'), run.done.then((code) => \`exited \${code}\`)]));
        run.stop();
        await run.done;
      }`,
      runs,
    );
    expect(printed).toBe('started\nexited 1\n');
  });

  /**
   * Runs `specs` as npm start does, printing their lines and the launcher's own, then how it ended: `exited <code>`
   * (never `started` when one failed), whether it ended before startUpWaitMs, and how many of the module process
   * groups are left.
   */
  const runGroup = (specs: { name: string; args: string[] }[], startUpWaitMs: number) =>
    withProcessGroup(
      `
      const startedAt = Date.now();
      const run = group.runProcessGroup(input.specs, { print: group.createPrinter(input.specs.map(({ name }) => name)), startUpWaitMs: input.startUpWaitMs });
      const groups = [...run.children.values()].map(({ pid }) => pid);
      console.log(await Promise.race([run.started.then(() => 'started'), run.done.then((code) => \`exited \${code}\`)]));
      console.log(Date.now() - startedAt < input.startUpWaitMs ? 'ended before startUpWaitMs' : 'ended at startUpWaitMs or later');
      const alive = (pid) => { try { process.kill(-pid, 0); return true; } catch { return false; } };
      // A process killed is gone once reaped.
      for (let wait = 0; wait < 40 && groups.some(alive); wait++) await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(\`groups left: \${groups.filter(alive).length}\`);`,
      { specs, startUpWaitMs },
    ).split('\n');

  /** Capture refusing its configuration `afterMs` after it started (its bundle loading). */
  const captureRefused = (afterMs = 0) =>
    moduleLogging('capture', [{ level: 60, msg: 'capture start-up failed: Invalid configuration:\n  - CAPTURE_FPS must be a number from 0 to 1000 (got "fast")' }], { exitCode: 1, afterMs });

  it("shows every module's start-up errors in one run: one that fails stops the others once each has started (stopped then) or failed", () => {
    const printed = runGroup(
      [
        // After telemetry has started, which is then stopped at once, not when the wait runs out.
        captureRefused(1000),
        moduleLogging('telemetry', [{ level: 30, msg: 'telemetry started' }], { runsChild: true }),
        moduleLogging('inference', [{ level: 60, msg: 'inference start-up failed: Invalid configuration:\n  - DETECTION_PRESET must be one of seed, default (got "quick")' }], { exitCode: 2, afterMs: 2500 }),
        moduleLogging('preview', [{ level: 30, msg: 'preview started' }], { afterMs: 1800 }),
      ],
      15_000,
    );
    expect(printed).toEqual(
      expect.arrayContaining([
        '[capture  ]   - CAPTURE_FPS must be a number from 0 to 1000 (got "fast")',
        expect.stringMatching(/^\[capture {2}\] exited \(code 1\) during start-up: stopping the others, each once it has started or failed \(.*inference.*still starting\)$/),
        '[inference] FATAL inference start-up failed: Invalid configuration:',
        '[inference]   - DETECTION_PRESET must be one of seed, default (got "quick")',
        '[inference] exited (code 2) during start-up',
        '[preview  ] INFO preview started',
        // The first failure's code; the started telemetry stopped, the sleep it ran too.
        'exited 1',
        'ended before startUpWaitMs',
        'groups left: 0',
      ]),
    );
    expect(printed.join('\n')).not.toContain('still starting 15 s');
  });

  it('stops a module still starting startUpWaitMs after another failed (its start line never logged: LOG_LEVEL=warn)', () => {
    const printed = runGroup([captureRefused(), moduleLogging('inference', [{ level: 40, msg: 'no GPU: on the CPU' }])], 1000);
    expect(printed).toEqual(expect.arrayContaining(['[inference] still starting 1 s after capture failed: stopping it', 'exited 1', 'groups left: 0']));
  });

  it('stops the others at once, those still starting too, when a module that had started exits', () => {
    const printed = runGroup(
      [
        moduleLogging('capture', [{ level: 30, msg: 'capture started' }, { level: 50, msg: 'camera gone' }], { exitCode: 3, afterMs: 300 }),
        moduleLogging('inference', [{ level: 30, msg: 'loading the model' }]),
      ],
      60_000,
    );
    expect(printed).toEqual(expect.arrayContaining(['[capture  ] exited (code 3): stopping the others', 'exited 3', 'groups left: 0']));
  });
});
