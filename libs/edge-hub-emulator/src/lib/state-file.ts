import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

/** What a state file holds, and what it means to lose it. */
export interface StateFileKind {
  /** As the warning names it: "cannot be read as <what>". */
  what: string;
  /** What is wrong with the parsed JSON as this kind; undefined where nothing is. */
  problemOf(parsed: unknown): string | undefined;
  /** What replacing it means to whoever still holds the old one, said after it is moved aside. */
  consequence: string;
}

/** What is wrong with a value that should be a JSON object; undefined where it is one. */
export function notAJsonObject(parsed: unknown): string | undefined {
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return undefined;
  return `not a JSON object but ${Array.isArray(parsed) ? 'an array' : String(parsed)}`;
}

/**
 * The JSON kept in `file`, undefined where there is none yet. One that cannot be read as `kind` (unreadable, not
 * JSON, or what kind.problemOf finds) is moved aside under a name that says so (`<file>.corrupt-<time>`) and warned
 * of on `logger`, naming the file, what is wrong and kind.consequence: what the caller makes anew in its place would
 * otherwise replace it unseen, and whoever still holds the old one fails with nothing saying why.
 */
export function readStateFile<T>(file: string, kind: StateFileKind, logger: Logger | undefined): T | undefined {
  let problem: string | undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    problem = kind.problemOf(parsed);
    if (problem === undefined) return parsed as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    problem = (err as Error).message;
  }
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    // Another emulator on the same state dir, which read it as this one did, moved it aside first and said so.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  logger?.warn({ file, movedTo: aside }, `${file} cannot be read as ${kind.what} (${problem}): moved aside to ${aside}; ${kind.consequence}`);
  return undefined;
}

/** Writes `value` to `file` as JSON by rename, so a reader (another emulator on the same state dir) never sees half of it. */
export function writeStateFile(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(value), { mode: 0o600 });
  renameSync(partial, file);
}
