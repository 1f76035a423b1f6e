import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { newModuleKey } from './sas';
import { notAJsonObject, readStateFile, type StateFileKind, writeStateFile } from './state-file';

export interface ModuleCredentials {
  key: string;
  generationId: string;
}

const IDENTITIES_FILE = 'module-identities.json';

/** What a new identity means to a module still running with its old one. */
const refusedUntilRestarted = (module: string) => `${module} still running from before is refused (404 from the workload API) until it is restarted with its new env`;

function isCredentials(value: unknown): value is ModuleCredentials {
  const { key, generationId } = (value ?? {}) as Partial<ModuleCredentials>;
  return typeof key === 'string' && key.length > 0 && typeof generationId === 'string' && generationId.length > 0;
}

/** module-identities.json as readStateFile reads it: every module gets a new identity where it cannot be read. */
const IDENTITIES: StateFileKind = {
  what: 'module identities',
  problemOf: notAJsonObject,
  consequence: `every module gets a new identity, so ${refusedUntilRestarted('a module')}`,
};

/**
 * Each module's key and generation id, kept in `stateDir` across restarts as IoT Edge keeps module identities
 * across an edgeHub restart, so modules still running sign and connect again. A module new to the deployment gets
 * a new identity; one no longer in it is forgotten, so if it comes back it is a new module with a new generation,
 * as when IoT Edge removes a module and deploys it again. Written by rename, like the CA. A kept file or entry
 * that is not an identity is said (on `logger`), not replaced unseen.
 */
export function loadOrCreateModuleIdentities(stateDir: string, moduleIds: readonly string[], logger?: Logger): Map<string, ModuleCredentials> {
  const file = join(stateDir, IDENTITIES_FILE);
  const kept = readStateFile<Record<string, unknown>>(file, IDENTITIES, logger) ?? {};
  const identities = new Map<string, ModuleCredentials>();
  for (const id of moduleIds) {
    const previous = Object.hasOwn(kept, id) ? kept[id] : undefined;
    if (isCredentials(previous)) {
      identities.set(id, { key: previous.key, generationId: previous.generationId });
      continue;
    }
    if (previous !== undefined) {
      logger?.warn({ file, moduleId: id }, `${file} holds no key and generation id for module ${id}: its entry is replaced by a new identity, so ${refusedUntilRestarted(id)}`);
    }
    identities.set(id, { key: newModuleKey(), generationId: randomBytes(9).toString('hex') });
  }
  writeStateFile(file, Object.fromEntries(identities));
  return identities;
}
