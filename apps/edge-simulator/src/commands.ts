import type { EdgeHubEmulator, JsonObject } from '@iev/edge-hub-emulator';
import { UsageError } from './errors';

/** What can be asked of a running simulator, from the command line (via the control endpoint) or its stdin. */
export type Command =
  | { kind: 'twin'; moduleId: string; patch?: JsonObject }
  | { kind: 'invoke'; moduleId: string; method: string; payload?: unknown; timeoutMs?: number }
  | { kind: 'modules' };

export const COMMANDS_USAGE = `twin <module>                      show the module twin (desired and reported)
twin <module> '<json patch>'       patch its desired properties (JSON merge patch; null deletes)
invoke <module> <method> ['<json>'] call a direct method (--timeout <seconds> on the command line)
modules                            the deployment's modules and which are connected`;

function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not JSON (${(err as Error).message}): ${text}`);
  }
}

/** `words` as the shell split them; the JSON argument is everything after the fixed words, joined back. */
export function parseCommand(words: string[], timeoutMs?: number): Command {
  const [kind, ...rest] = words;
  switch (kind) {
    case 'twin': {
      const [moduleId, ...json] = rest;
      if (!moduleId) throw new UsageError('twin needs a module: twin <module> [\'<json patch>\']');
      if (json.length === 0) return { kind, moduleId };
      const patch = parseJsonArgument(json.join(' '), 'the desired properties patch');
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new UsageError(`a desired properties patch must be a JSON object, got ${json.join(' ')}`);
      return { kind, moduleId, patch: patch as JsonObject };
    }
    case 'invoke': {
      const [moduleId, method, ...json] = rest;
      if (!moduleId || !method) throw new UsageError("invoke needs a module and a method: invoke <module> <method> ['<json payload>']");
      return { kind, moduleId, method, payload: json.length > 0 ? parseJsonArgument(json.join(' '), 'the method payload') : undefined, timeoutMs };
    }
    case 'modules':
      return { kind };
    default:
      throw new UsageError(`unknown command ${kind ?? '(none)'}; commands:\n${COMMANDS_USAGE}`);
  }
}

/** A line typed on the simulator's stdin: the JSON part is taken as typed, spaces and all, quotes optional. */
export function parseCommandLine(line: string): Command {
  const fixed = /^\s*invoke\b/.test(line) ? 3 : 2;
  const words: string[] = [];
  let rest = line.trim();
  while (words.length < fixed && rest !== '') {
    const match = /^(\S+)\s*/.exec(rest) as RegExpExecArray;
    words.push(match[1]);
    rest = rest.slice(match[0].length);
  }
  const json = rest.replace(/^'(.*)'$/s, '$1');
  return parseCommand(json === '' ? words : [...words, json]);
}

export interface CommandResult {
  ok: boolean;
  result: unknown;
}

export async function executeCommand(hub: EdgeHubEmulator, command: Command, moduleIds: readonly string[]): Promise<CommandResult> {
  const known = (moduleId: string) => {
    if (!moduleIds.includes(moduleId)) throw new UsageError(`no module "${moduleId}" in the deployment (modules: ${moduleIds.join(', ')})`);
  };
  switch (command.kind) {
    case 'twin':
      known(command.moduleId);
      if (!command.patch) return { ok: true, result: hub.twin(command.moduleId) };
      return { ok: true, result: { version: await hub.patchDesired(command.moduleId, command.patch), ...hub.twin(command.moduleId) } };
    case 'invoke': {
      known(command.moduleId);
      const result = await hub.invokeMethod(command.moduleId, command.method, command.payload, command.timeoutMs);
      return { ok: result.status < 300, result };
    }
    case 'modules': {
      const connected = hub.connectedModules();
      return { ok: true, result: moduleIds.map((id) => ({ id, connected: connected.includes(id) })) };
    }
  }
}
