import { type CreateNodes, createNodesFromFiles } from '@nx/devkit';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

export const DOCKERFILE_PATTERN = 'docker/*.Dockerfile';

/** The app a module image is built from: `docker/<app>.Dockerfile` belongs to `apps/<app>`. */
export function appRootOf(dockerfile: string): string {
  return join('apps', basename(dockerfile, '.Dockerfile'));
}

/**
 * Infers the `docker` target (this plugin's docker executor) for every app with a `docker/<app>.Dockerfile`, so a
 * new module gets its image target by adding its Dockerfile. Not cached: an image build pushes and tags as well.
 */
export const createNodes: CreateNodes = [
  DOCKERFILE_PATTERN,
  (dockerfiles, options, context) =>
    createNodesFromFiles(
      (dockerfile) => {
        const root = appRootOf(dockerfile);
        if (!existsSync(join(context.workspaceRoot, root, 'project.json'))) {
          throw new Error(`${dockerfile} names no app: ${root}/project.json does not exist (docker/<app>.Dockerfile builds apps/<app>).`);
        }
        return {
          projects: {
            [root]: {
              targets: {
                docker: {
                  executor: './tools/nx-plugin:docker',
                  cache: false,
                  metadata: { technologies: ['docker'], description: `Builds the ${basename(root)} module image from ${dockerfile}` },
                },
              },
            },
          },
        };
      },
      dockerfiles,
      options,
      context,
    ),
];
