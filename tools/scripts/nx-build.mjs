// Builds Nx projects quietly: Nx/webpack chatter goes to stderr only when the build fails, so a command's
// own stdout (e.g. `npm run detect -- --json`) stays machine-readable.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The environment for an Nx run started from inside another (a spec running `npm run simulate` or the bench, an
 * image build): without the outer run's NX_INVOCATION_ROOT_PID. Nx records every task started under one root run in
 * a table, while that root lives, and refuses a task already there as a recursive loop: a nested build killed
 * mid-way (its spec's timeout, under load) left its tasks there, and the next spec's build of them under the same
 * `nx run-many -t test` failed ("preview:build was already invoked by a parent Nx process"). These runs only build
 * and generate, never run tests, so no loop can form through them.
 */
export function nestedNxEnv(extra = {}) {
  const env = { ...process.env, NX_TUI: 'false', ...extra };
  delete env.NX_INVOCATION_ROOT_PID;
  return env;
}

export function buildProjects(projects) {
  const result = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    env: nestedNxEnv(),
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    process.stderr.write(`\nbuild of ${projects.join(', ')} failed\n`);
    process.exit(result.status ?? 1);
  }
}
