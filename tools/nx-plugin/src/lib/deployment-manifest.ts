/**
 * Turns an IoT Edge deployment template into a deployment manifest the way iotedgedev's `genconfig` does:
 * module image placeholders (`${MODULES.<module>}`) become image references, createOptions objects become
 * minified JSON split into the 512-character chunks a module twin value can hold, and the template-only
 * `$schema-template` key goes.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A module's environment variable as the template sets it (`env.<name>.value`), if it is text. */
export function envValue(module: JsonObject, name: string): string | undefined {
  const env = module['env'];
  const entry = isJsonObject(env) ? env[name] : undefined;
  return isJsonObject(entry) && typeof entry['value'] === 'string' ? entry['value'] : undefined;
}

export function setEnv(module: JsonObject, name: string, value: string): void {
  const env = isJsonObject(module['env']) ? module['env'] : (module['env'] = {});
  env[name] = { value };
}

/** The TCP port a ZeroMQ endpoint ends with (`tcp://*:5555` → 5555), if it names one. */
export function endpointPort(endpoint: string | undefined): number | undefined {
  const port = /:(\d+)$/.exec(endpoint ?? '')?.[1];
  return port === undefined ? undefined : Number(port);
}

/** RFC 7396 JSON Merge Patch: objects merge key by key, `null` removes a key, anything else replaces. */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** A twin value holds at most 512 characters; IoT Edge joins createOptions, createOptions01, ... back together. */
export const CREATE_OPTIONS_CHUNK_LENGTH = 512;
/** IoT Edge reads createOptions01 to createOptions07 at most: 4 KiB in all. */
export const MAX_CREATE_OPTIONS_CHUNKS = 8;

/** `{ createOptions, createOptions01, ... }` for one module, each value at most 512 characters. */
export function splitCreateOptions(moduleName: string, createOptions: JsonObject | string): Record<string, string> {
  const options = typeof createOptions === 'string' ? parseCreateOptions(moduleName, createOptions) : createOptions;
  // Code points, not UTF-16 units, so a chunk never ends inside a character (iotedgedev counts the same way).
  const characters = Array.from(JSON.stringify(options));
  const chunks: string[] = [];
  for (let start = 0; start < characters.length; start += CREATE_OPTIONS_CHUNK_LENGTH) {
    chunks.push(characters.slice(start, start + CREATE_OPTIONS_CHUNK_LENGTH).join(''));
  }
  if (chunks.length > MAX_CREATE_OPTIONS_CHUNKS) {
    throw new Error(
      `createOptions of module "${moduleName}" are ${characters.length} characters long; IoT Edge takes at most ` +
        `${MAX_CREATE_OPTIONS_CHUNKS * CREATE_OPTIONS_CHUNK_LENGTH}.`,
    );
  }
  return Object.fromEntries(chunks.map((chunk, index) => [index === 0 ? 'createOptions' : `createOptions${String(index).padStart(2, '0')}`, chunk]));
}

function parseCreateOptions(moduleName: string, text: string): JsonObject {
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new Error(`createOptions of module "${moduleName}" are not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw new Error(`createOptions of module "${moduleName}" must be a JSON object.`);
  return parsed;
}

interface ModuleSettings {
  image: string;
  createOptions?: JsonObject | string;
  [key: string]: JsonValue | undefined;
}

interface DeploymentTemplate {
  modulesContent: {
    $edgeAgent: {
      'properties.desired': {
        systemModules: Record<string, { settings: ModuleSettings }>;
        modules: Record<string, { settings: ModuleSettings }>;
      };
    };
  };
}

const MODULE_IMAGE_PLACEHOLDER = /^\$\{MODULES\.([A-Za-z0-9_-]+)\}$/;

/**
 * The manifest for a template that passed the template schema. `moduleImage` gives the image reference
 * for a `${MODULES.<module>}` placeholder and throws for a module it does not know.
 */
export function generateManifest(template: JsonObject, moduleImage: (module: string) => string): JsonObject {
  const manifest = structuredClone(template);
  delete manifest['$schema-template'];
  const agent = (manifest as unknown as DeploymentTemplate).modulesContent.$edgeAgent['properties.desired'];
  for (const [name, { settings }] of Object.entries({ ...agent.systemModules, ...agent.modules })) {
    settings.image = expandImage(name, settings.image, moduleImage);
    if (settings.createOptions !== undefined) Object.assign(settings, splitCreateOptions(name, settings.createOptions));
  }
  return manifest;
}

function expandImage(moduleName: string, image: string, moduleImage: (module: string) => string): string {
  const placeholder = MODULE_IMAGE_PLACEHOLDER.exec(image);
  if (placeholder) return moduleImage(placeholder[1]);
  if (image.includes('${')) {
    throw new Error(`Module "${moduleName}" has image "${image}": the only placeholder genconfig fills is \${MODULES.<project>}.`);
  }
  return image;
}
