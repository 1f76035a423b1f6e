// The workspace's .env (start from .env.example; git ignores it), read by `npm start` and `npm run simulate` as the
// original sample read its .env: variables already set in the environment win over the file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** Sets .env's variables that `env` lacks; returns their names. */
export function loadDotEnv(workspaceRoot, env = process.env) {
  const file = join(workspaceRoot, '.env');
  if (!existsSync(file)) return [];
  const taken = Object.entries(parseEnv(readFileSync(file, 'utf8'))).filter(([name]) => env[name] === undefined);
  for (const [name, value] of taken) env[name] = value;
  return taken.map(([name]) => name);
}
