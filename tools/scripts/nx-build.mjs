// Builds Nx projects quietly: Nx/webpack chatter goes to stderr only when the build fails, so a command's
// own stdout (e.g. `npm run detect -- --json`) stays machine-readable.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The environment for an Nx run started from inside another (a spec running `npm run simulate`, an image build):
 * without the outer run's NX_INVOCATION_ROOT_PID. Nx records every task of one root in a table and refuses a task
 * already there as a recursive loop, so two such runs side by side under `nx run-many -t test` (pipeline-e2e's
 * simulator building preview while images-e2e's image build builds it too) failed each other's builds. These runs
 * only build and generate, never run tests, so no loop can form through them.
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
