import { type ExecutorContext, logger } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCommandLine, isOnPath, runCommand } from '../../lib/command-line';
import { type Architecture, imageNaming, imageReference, type JetPack, targetPlatform } from '../../lib/image-reference';
import { buildCommands, type ContainerEngine, type Isolation } from './build-commands';

export interface DockerExecutorOptions {
  arch: Architecture;
  cuda?: boolean;
  /** arm64 --cuda only: the JetPack the Jetson images are built for (default 6; 5 tags `<arch>.cuda.jp5`). */
  jetpack?: JetPack;
  tag?: string;
  registry?: string;
  push?: boolean;
  engine?: ContainerEngine;
  baseImage?: string;
  nodeImage?: string;
  isolation?: Isolation;
  /** Nx hands a single --volume as a string. */
  volume?: string | string[];
  dryRun?: boolean;
  /** The variant with capture's decoders (inference's Dockerfile has it), tagged `<version>-<platform>.decoders`. */
  decoders?: boolean;
}

/**
 * Builds `docker/<project>.Dockerfile` with the workspace root as context and tags it
 * `<registry>/<project>:<version>-<platform>`, the reference `nx genconfig deployment` puts in manifests.
 * Every command is printed first; with --dry-run nothing runs and no engine is needed.
 */
export default async function dockerExecutor(options: DockerExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const module = context.projectName;
  const engine = options.engine ?? 'docker';
  try {
    if (!module) throw new Error('The docker executor builds the image of one project; run it as `nx docker <project>`.');
    const dockerfile = `docker/${module}.Dockerfile`;
    if (!existsSync(join(context.root, dockerfile))) throw new Error(`${dockerfile} does not exist: every project with a docker target needs one.`);
    if (!options.dryRun && !isOnPath(engine)) {
      throw new Error(
        `Cannot build the ${module} image: "${engine}" is not on PATH. Install it, choose another engine with ` +
          `--engine docker|podman|buildah, or add --dry-run to only print the commands.`,
      );
    }

    if (options.decoders && !/^ARG DECODERS\b/m.test(readFileSync(join(context.root, dockerfile), 'utf8'))) {
      throw new Error(`--decoders: ${dockerfile} builds no variant with decoders (no ARG DECODERS); inference's does.`);
    }
    const platform = targetPlatform(options);
    const naming = imageNaming(context.root, { registry: options.registry, version: options.tag });
    const image = imageReference(module, platform, naming, options.decoders ? 'decoders' : undefined);
    const commands = buildCommands({
      engine,
      platform,
      dockerfile,
      image,
      push: options.push ?? false,
      baseImage: options.baseImage,
      nodeImage: options.nodeImage,
      isolation: options.isolation,
      volumes: options.volume === undefined ? [] : [options.volume].flat(),
      decoders: options.decoders,
    });

    for (const command of commands) {
      logger.info(formatCommandLine(command));
      if (options.dryRun) continue;
      const exitCode = await runCommand(command, context.root);
      if (exitCode !== 0) throw new Error(`${command.slice(0, 2).join(' ')} exited with code ${exitCode}.`);
    }
    if (options.dryRun) logger.info('(dry run: nothing was executed)');
    return { success: true };
  } catch (error) {
    logger.error((error as Error).message);
    return { success: false };
  }
}
