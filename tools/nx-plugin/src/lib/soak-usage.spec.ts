// `npm run soak`'s command line (tools/scripts/soak.mjs, run in its own Node.js as npm runs it): a person asking for
// help or mistyping a flag gets the usage, not a stack trace, and nothing is built or started; and a soak that cannot
// start says why as the modules logged it (lib/process-stats.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/executor-context';

const soak = (...args: string[]) => spawnSync(process.execPath, [join(WORKSPACE_ROOT, 'tools/scripts/soak.mjs'), ...args], { encoding: 'utf8', timeout: 20_000 });

describe('npm run soak, command line', () => {
  it('answers --help and -h with its usage on stdout, and starts nothing', () => {
    for (const flag of ['--help', '-h']) {
      const { status, stdout, stderr } = soak(flag);
      expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
      expect(stdout).toMatch(/^usage: npm run soak -- \[--minutes 60\] \[--preset seed\|default\]/);
      expect(stdout).toContain('[--warmup-minutes 5] [--json report.json]');
    }
  });

  it('refuses a mistyped flag, a stray argument or an unknown preset naming it, with the usage and no stack trace, and starts nothing', () => {
    for (const [args, named] of [
      [['--minuts', '5'], "Unknown option '--minuts'"],
      [['5'], "Unexpected argument '5'"],
      [['--preset', 'fast'], '--preset must be one of seed, default \\(got "fast"\\)'],
    ] as const) {
      const { status, stdout, stderr } = soak(...args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(new RegExp(`^soak: ${named}`));
      expect(stderr).toContain('usage: npm run soak -- ');
      expect(stderr).not.toMatch(/\n\s+at |building/);
    }
  });
});

describe("npm run soak's failure to start", () => {
  /** loggedErrors (lib/process-stats.mjs) of this simulator log text, run as the soak runs it. */
  const loggedErrors = (logText: string): string[] => {
    const script = `const { loggedErrors } = await import(${JSON.stringify(join(WORKSPACE_ROOT, 'tools/scripts/lib/process-stats.mjs'))});
      console.log(JSON.stringify(loggedErrors(process.argv[1])));`;
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, logText], { encoding: 'utf8', timeout: 20_000 }));
  };

  it("quotes each module's errors from the simulator's log (JSON logs), a configuration error's list whole, and nothing else", () => {
    // As the simulator writes them under the soak: its own lines plain, the modules' as LOG_FORMAT=json.
    const log = [
      '[simulator] inference: DETECTION_PRESET=seed → fast (set in the simulator\'s environment)',
      '[telemetry] {"level":30,"time":"2026-12-06T23:06:35.900Z","module":"telemetry","msg":"telemetry started"}',
      '[inference] {"level":60,"time":"2026-12-06T23:06:36.276Z","module":"inference","err":{"type":"ConfigError","message":"Invalid configuration:\\n  - DETECTION_PRESET must be one of seed, default (got \\"fast\\")","stack":"ConfigError: ..."},"msg":"inference start-up failed: Invalid configuration"}',
      '[capture  ] {"level":50,"time":"2026-12-06T23:06:36.300Z","module":"capture","msg":"source failed: video file not found: gone.mp4; retrying"}',
      '[inference] exited (code 1): stopping the others',
    ].join('\n');

    expect(loggedErrors(log)).toEqual([
      '[inference] Invalid configuration:\n  - DETECTION_PRESET must be one of seed, default (got "fast")',
      '[capture] source failed: video file not found: gone.mp4; retrying',
    ]);
  });

  it('quotes a module that refused its LOG_* variables, which logs IoT Edge lines on the defaults, shown as text', () => {
    // LOG_LEVEL=bogus in the environment: the modules log on the defaults, IoT Edge's form under the simulator.
    const log = [
      '[capture  ] FATAL capture start-up failed: Invalid configuration: - LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "bogus")',
      '[capture  ] exited (code 1): stopping the others',
      '[telemetry] INFO SIGTERM during start-up: exiting',
    ].join('\n');

    expect(loggedErrors(log)).toEqual(['[capture] capture start-up failed: Invalid configuration: - LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "bogus")']);
  });
});
