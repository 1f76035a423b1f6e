import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, resolve } from 'node:path';

export interface ModelFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  /** File stem and the first 8 hex digits of the sha256, e.g. "ch_pp_inf_dynamic@7ceb8792". */
  modelId: string;
  /**
   * Where the path came from, as errors about the file say it: the setting that names it ("set by MODEL_PATH",
   * REC_MODEL_PATH, --model), or a preset's own model while that setting is unset.
   */
  origin: string;
}

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
}

/**
 * Reads a model file once, so its identity (sha256) and the bytes handed to the runtime are the same. `variable` is
 * the setting that names it; `presetDefault` the preset whose own model it is, where that setting is unset: errors
 * then say so, instead of blaming a setting nobody made.
 */
export async function readModelFile(path: string, variable = 'MODEL_PATH', presetDefault?: string): Promise<ModelFile> {
  const origin = presetDefault === undefined ? `set by ${variable}` : `the model of preset ${presetDefault}, ${variable} is unset`;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    // A relative path says where it was looked for, and a preset's own model whose it is (MODEL_PATH's goes without saying).
    const where = isAbsolute(path) ? ` (${origin})` : ` (${resolve(path)}${presetDefault === undefined ? '' : `, ${origin}`}); set ${variable} to the model's full path`;
    throw new ModelFileError(`cannot read model file ${path}: ${reason}${where}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, bytes, sha256, modelId: `${basename(path, extname(path))}@${sha256.slice(0, 8)}`, origin };
}
