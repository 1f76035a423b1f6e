import { type ExecutorContext, logger, readJsonFile, writeJsonFile } from '@nx/devkit';
import { basename, join, relative, resolve } from 'node:path';
import { parseCameraCount, parseCameraDevices, withCameras } from '../../lib/camera-modules';
import { applyMergePatch, generateManifest, isJsonObject, type JsonObject } from '../../lib/deployment-manifest';
import { withInProcessCapture } from '../../lib/in-process-deployment';
import { type DeploymentValidator, loadDeploymentValidators } from '../../lib/deployment-schemas';
import { type Architecture, imageNaming, imageReference, type JetPack, platformName, targetPlatform } from '../../lib/image-reference';

export interface GenconfigExecutorOptions {
  arch: Architecture;
  cuda?: boolean;
  /** arm64 --cuda only: the JetPack of the images, as given to `nx docker --jetpack` (default 6). */
  jetpack?: JetPack;
  registry?: string;
  /** Version part of the image tags (`nx docker --tag`); Nx answers `--version` itself. */
  tag?: string;
  templates: string[];
  cudaPatch?: string;
  outputPath: string;
  /** Capture modules, one per camera, all feeding inference (default: one per `cameraDevices`, else 1: the template as it is). */
  cameras?: number;
  /** Each camera's device (`/dev/video0,/dev/video2`, `/dev/v4l/by-id/...`); default camera k's `/dev/video<k>`. */
  cameraDevices?: string[];
  /** No capture module: inference decodes the cameras itself (CAPTURE_SOURCES). */
  inProcess?: boolean;
}

const TEMPLATE_SUFFIX = '.template.json';

/**
 * Writes `<outputPath>/<template name>.<platform>.json` for every template (`deployment.template.json` →
 * `deployment.arm64.cuda.json`; with `--cameras 4`, `deployment.4cameras.arm64.cuda.json`; with `--jetpack 5`,
 * `deployment.arm64.cuda.jp5.json`; with `--in-process`, `deployment.inprocess.arm64.cuda.json`), validating each
 * template and manifest against the schemas in `schemas/`.
 */
export default async function genconfigExecutor(options: GenconfigExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const platform = targetPlatform(options);
    const devices = parseCameraDevices(options.cameraDevices);
    const cameras = parseCameraCount(options.cameras ?? devices?.length ?? 1);
    const variant = [...(cameras === 1 ? [] : [`${cameras}cameras`]), ...(options.inProcess ? ['inprocess'] : []), platformName(platform)].join('.');
    const naming = imageNaming(context.root, { registry: options.registry, version: options.tag });
    const modulesWithImages = projectsWithDockerTarget(context);
    const moduleImage = (module: string) => {
      if (!modulesWithImages.includes(module)) {
        throw new Error(`\${MODULES.${module}} names no project with a docker target (those are: ${modulesWithImages.join(', ')}).`);
      }
      // Decoding in inference needs the image with the decoders.
      return imageReference(module, platform, naming, options.inProcess && module === 'inference' ? 'decoders' : undefined);
    };
    const validators = loadDeploymentValidators(join(context.root, 'schemas'));
    const cudaPatch = platform.cuda && options.cudaPatch ? readJsonFile<JsonObject>(resolve(context.root, options.cudaPatch)) : undefined;

    for (const templatePath of options.templates) {
      const template = readJsonFile<JsonObject>(resolve(context.root, templatePath));
      const platformTemplate = cudaPatch ? applyMergePatch(template, cudaPatch) : template;
      if (!isJsonObject(platformTemplate)) throw new Error(`${templatePath}: a deployment template is a JSON object.`);
      assertValid(validators.template, platformTemplate, `${templatePath}${cudaPatch ? ` with ${options.cudaPatch}` : ''}`, 'template');

      const withTheCameras = withCameras(platformTemplate, cameras, devices);
      const manifest = generateManifest(options.inProcess ? withInProcessCapture(withTheCameras) : withTheCameras, moduleImage);
      const manifestPath = resolve(context.root, options.outputPath, manifestName(templatePath, variant));
      assertValid(validators.manifest, manifest, relative(context.root, manifestPath), 'manifest');
      writeJsonFile(manifestPath, manifest);
      logger.info(`${templatePath} -> ${relative(context.root, manifestPath)}`);
    }
    return { success: true };
  } catch (error) {
    logger.error((error as Error).message);
    return { success: false };
  }
}

/** iotedgedev's naming: the template's name without `.template.json`, then the platform (after the camera count). */
function manifestName(templatePath: string, variant: string): string {
  const name = basename(templatePath);
  const stem = name.endsWith(TEMPLATE_SUFFIX) ? name.slice(0, -TEMPLATE_SUFFIX.length) : name.replace(/\.json$/, '');
  return `${stem}.${variant}.json`;
}

function projectsWithDockerTarget(context: ExecutorContext): string[] {
  return Object.entries(context.projectsConfigurations.projects)
    .filter(([, project]) => project.targets?.['docker'] !== undefined)
    .map(([name]) => name)
    .sort();
}

function assertValid(validate: DeploymentValidator, document: unknown, label: string, kind: 'template' | 'manifest'): void {
  const problems = validate(document);
  if (problems.length > 0) {
    throw new Error(`${label} is not a valid deployment ${kind}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}
