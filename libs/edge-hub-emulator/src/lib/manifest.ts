import { readFileSync } from 'node:fs';
import { isObject, type JsonObject } from './twin';

/** One module of a deployment manifest, as the simulator needs it. */
export interface ManifestModule {
  id: string;
  /** `env.<NAME>.value`, as strings. */
  env: Record<string, string>;
  /** `modulesContent.<id>["properties.desired"]`. */
  desired: JsonObject;
  image?: string;
  /** Docker-only; kept so a caller can say it is ignored. */
  createOptions?: unknown;
  status?: string;
}

export interface DeploymentManifest {
  file: string;
  modules: ManifestModule[];
  /** `$edgeHub` routes by name (schema 1.2's `{ route }` objects flattened to their text). */
  routes: Record<string, string>;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(readonly file: string, readonly problems: string[]) {
    super(`deployment manifest ${file} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Reads what the simulator uses from an IoT Edge deployment manifest or template (iotedgedev's template schema 4.0
 * or a generated deployment): modules with env, image and createOptions, module twins' desired properties, and
 * edgeHub's routes. Every problem is reported at once, each with its JSON path.
 */
export function parseDeploymentManifest(file: string, text: string): DeploymentManifest {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const objectAt = (value: unknown, path: string, required = true): JsonObject | undefined => {
    if (isObject(value)) return value;
    if (value !== undefined || required) problems.push(`${path} must be an object${value === undefined ? ' (missing)' : ''}`);
    return undefined;
  };

  const content = objectAt(isObject(document) ? document['modulesContent'] : undefined, 'modulesContent');
  if (!content) throw new ManifestError(file, problems);
  const agent = objectAt(objectAt(content['$edgeAgent'], 'modulesContent.$edgeAgent')?.['properties.desired'], 'modulesContent.$edgeAgent["properties.desired"]');
  const hub = objectAt(content['$edgeHub'], 'modulesContent.$edgeHub', false);
  const hubDesired = hub && objectAt(hub['properties.desired'], 'modulesContent.$edgeHub["properties.desired"]');

  const routes: Record<string, string> = {};
  const routesPath = 'modulesContent.$edgeHub["properties.desired"].routes';
  for (const [name, route] of Object.entries(objectAt(hubDesired?.['routes'], routesPath, false) ?? {})) {
    const text = isObject(route) ? route['route'] : route;
    if (typeof text === 'string') routes[name] = text;
    else problems.push(`${routesPath}.${name} must be a route string or { "route": "..." }`);
  }

  const modules: ManifestModule[] = [];
  const modulesPath = 'modulesContent.$edgeAgent["properties.desired"].modules';
  for (const [id, raw] of Object.entries(objectAt(agent?.['modules'], modulesPath, false) ?? {})) {
    const path = `${modulesPath}.${id}`;
    const module = objectAt(raw, path);
    if (!module) continue;
    const env: Record<string, string> = {};
    for (const [name, entry] of Object.entries(objectAt(module['env'], `${path}.env`, false) ?? {})) {
      const value = isObject(entry) ? entry['value'] : undefined;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[name] = String(value);
      else problems.push(`${path}.env.${name} must be { "value": "..." }`);
    }
    const settings = objectAt(module['settings'], `${path}.settings`, false);
    const desiredPath = `modulesContent.${id}["properties.desired"]`;
    const desired = objectAt(objectAt(content[id], `modulesContent.${id}`, false)?.['properties.desired'], desiredPath, false) ?? {};
    modules.push({
      id,
      env,
      desired,
      image: typeof settings?.['image'] === 'string' ? settings['image'] : undefined,
      createOptions: settings?.['createOptions'],
      status: typeof module['status'] === 'string' ? module['status'] : undefined,
    });
  }
  for (const key of Object.keys(content)) {
    if (!key.startsWith('$') && !modules.some((module) => module.id === key)) {
      problems.push(`modulesContent.${key} holds a twin for a module the deployment does not run`);
    }
  }
  if (problems.length > 0) throw new ManifestError(file, problems);
  return { file, modules, routes };
}

export function readDeploymentManifest(file: string): DeploymentManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ManifestError(file, [`cannot read it: ${reason}`]);
  }
  return parseDeploymentManifest(file, text);
}
