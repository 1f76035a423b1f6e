// `npm run soak`'s command line (tools/scripts/soak.mjs, run in its own Node.js as npm runs it): a person asking for
// help or mistyping a flag gets the usage, not a stack trace, and nothing is built or started.
import { spawnSync } from 'node:child_process';
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

  it('refuses a mistyped flag or a stray argument naming it, with the usage and no stack trace, and starts nothing', () => {
    for (const [args, named] of [
      [['--minuts', '5'], "Unknown option '--minuts'"],
      [['5'], "Unexpected argument '5'"],
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
