import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { newModuleKey } from './sas';

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

/**
 * The identities kept in `file`, {} where there is none yet. One that cannot be read as the identities this writes
 * (not JSON, not an object, unreadable) is moved aside, under a name that says so, and said: every module then gets
 * a new identity, and a module still running with its old one is refused, which would otherwise go unexplained.
 */
function readIdentities(file: string, logger: Logger | undefined): Record<string, unknown> {
  let problem: string;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    problem = `not a JSON object but ${Array.isArray(parsed) ? 'an array' : String(parsed)}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    problem = (err as Error).message;
  }
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  logger?.warn({ file, movedTo: aside }, `${file} cannot be read as module identities (${problem}): moved aside to ${aside}; every module gets a new identity, so ${refusedUntilRestarted('a module')}`);
  return {};
}

/**
 * Each module's key and generation id, kept in `stateDir` across restarts as IoT Edge keeps module identities
 * across an edgeHub restart, so modules still running sign and connect again. A module new to the deployment gets
 * a new identity; one no longer in it is forgotten, so if it comes back it is a new module with a new generation,
 * as when IoT Edge removes a module and deploys it again. Written by rename, like the CA. A kept file or entry
 * that is not an identity is said (on `logger`), not replaced unseen.
 */
export function loadOrCreateModuleIdentities(stateDir: string, moduleIds: readonly string[], logger?: Logger): Map<string, ModuleCredentials> {
  const file = join(stateDir, IDENTITIES_FILE);
  const kept = readIdentities(file, logger);
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
  mkdirSync(stateDir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(Object.fromEntries(identities)), { mode: 0o600 });
  renameSync(partial, file);
  return identities;
}
