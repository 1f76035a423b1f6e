import type { ProjectConfiguration } from '@nx/devkit';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from './executor-context';

/**
 * The workspace's projects as Nx resolves them, with the targets its plugins infer (project.json alone lacks those).
 * Asked of the nx CLI in a child process: Nx's plugins do not load inside Jest's module sandbox.
 */
export function workspaceProjects(): Record<string, ProjectConfiguration> {
  const dir = mkdtempSync(join(tmpdir(), 'iev-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(process.execPath, [require.resolve('nx/bin/nx'), 'graph', `--file=${file}`], { cwd: WORKSPACE_ROOT, stdio: 'ignore', env: { ...process.env, NX_TUI: 'false' } });
    const { graph } = JSON.parse(readFileSync(file, 'utf8')) as { graph: { nodes: Record<string, { data: ProjectConfiguration }> } };
    return Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
