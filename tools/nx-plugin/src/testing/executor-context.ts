import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { join } from 'node:path';

/** This workspace's root, for tests that read its real templates, schemas and Dockerfiles. */
export const WORKSPACE_ROOT = join(__dirname, '../../../..');

/** The context Nx hands an executor, with only what these executors read. */
export function executorContext(root: string, projectName: string, projects: Record<string, ProjectConfiguration> = {}): ExecutorContext {
  return {
    root,
    cwd: root,
    projectName,
    isVerbose: false,
    projectsConfigurations: { version: 2, projects },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}
