import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newModuleKey } from './sas';

export interface ModuleCredentials {
  key: string;
  generationId: string;
}

const IDENTITIES_FILE = 'module-identities.json';

function isCredentials(value: unknown): value is ModuleCredentials {
  const { key, generationId } = (value ?? {}) as Partial<ModuleCredentials>;
  return typeof key === 'string' && key.length > 0 && typeof generationId === 'string' && generationId.length > 0;
}

function readIdentities(file: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {}; // none kept yet, or an unreadable file: every module gets a new identity
  }
}

/**
 * Each module's key and generation id, kept in `stateDir` across restarts as IoT Edge keeps module identities
 * across an edgeHub restart, so modules still running sign and connect again. A module new to the deployment gets
 * a new identity; one no longer in it is forgotten, so if it comes back it is a new module with a new generation,
 * as when IoT Edge removes a module and deploys it again. Written by rename, like the CA.
 */
export function loadOrCreateModuleIdentities(stateDir: string, moduleIds: readonly string[]): Map<string, ModuleCredentials> {
  const file = join(stateDir, IDENTITIES_FILE);
  const kept = readIdentities(file);
  const identities = new Map<string, ModuleCredentials>();
  for (const id of moduleIds) {
    const previous = Object.hasOwn(kept, id) ? kept[id] : undefined;
    identities.set(id, isCredentials(previous) ? { key: previous.key, generationId: previous.generationId } : { key: newModuleKey(), generationId: randomBytes(9).toString('hex') });
  }
  mkdirSync(stateDir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(Object.fromEntries(identities)), { mode: 0o600 });
  renameSync(partial, file);
  return identities;
}
