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

/** A module process that logs these messages (pino JSON, as runModule's logger), then exits with `exitCode`, or runs on. */
const moduleLogging = (name: string, messages: { level: number; msg: string }[], exitCode?: number) => ({
  name,
  args: ['-e', `${messages.map((message) => `console.log(${JSON.stringify(JSON.stringify(message))});`).join('')}${exitCode === undefined ? 'setInterval(() => {}, 1000);' : `process.exitCode = ${exitCode};`}`],
});

describe("npm start's launcher", () => {
  it('answers --help and -h with its usage, the variables it sets per module included, and starts nothing', () => {
    for (const flag of ['--help', '-h']) {
      const usage = execFileSync(process.execPath, [join(WORKSPACE_ROOT, 'tools/scripts/start.mjs'), flag], { encoding: 'utf8' });
      expect(usage).toMatch(/^usage: npm start /);
      expect(usage).toContain('CAMERAS=N           the demo video (or CAMERA_PATH) as N sources instead, N from 1 to 10');
      expect(usage).toContain('METRICS_PORT   capture 9101, inference 9102, telemetry 9103, preview 9104');
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
      failing: [captureStarted, moduleLogging('inference', [{ level: 60, msg: 'inference start-up failed: Invalid configuration' }], 1)],
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
});
