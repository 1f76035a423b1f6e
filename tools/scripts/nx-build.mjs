// Builds Nx projects quietly: Nx/webpack chatter goes to stderr only when the build fails, so a command's
// own stdout (e.g. `npm run detect -- --json`) stays machine-readable.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));

export function buildProjects(projects) {
  const result = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static'], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    env: { ...process.env, NX_TUI: 'false' },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    process.stderr.write(`\nbuild of ${projects.join(', ')} failed\n`);
    process.exit(result.status ?? 1);
  }
}
