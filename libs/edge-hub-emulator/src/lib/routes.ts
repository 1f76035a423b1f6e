import { contentOf, type MessageProperties } from './message-properties';
import { parseCondition, type ConditionInput } from './route-condition';

/** Where a routed message goes: IoT Hub, or a module's input. */
export type RouteSink = { kind: 'upstream' } | { kind: 'module'; moduleId: string; inputName: string };

export interface Route {
  name: string;
  text: string;
  /** The module whose messages it takes (undefined: any module), and the output (undefined: any; '*': any named one). */
  fromModule?: string;
  fromOutput?: string;
  condition?: (input: ConditionInput) => boolean;
  sink: RouteSink;
  /** Set for sources the simulator accepts but never produces (twin change notifications). */
  neverMatches?: string;
}

export class RouteError extends Error {
  override readonly name = 'RouteError';
}

const ROUTE = /^\s*FROM\s+(\S+)(?:\s+WHERE\s+(.+?))?\s+INTO\s+(.+?)\s*$/is;
const BROKERED = /^BrokeredEndpoint\s*\(\s*(["'])\/modules\/([^/"']+)\/inputs\/([^/"']+)\1\s*\)$/i;
const FORMS =
  'FROM /messages/* | /messages/modules/* | /messages/modules/<module>/* | /messages/modules/<module>/outputs/<output | *> | /* ' +
  '[WHERE <condition>] INTO $upstream | BrokeredEndpoint("/modules/<module>/inputs/<input>")';

function parseSource(source: string): Pick<Route, 'fromModule' | 'fromOutput' | 'neverMatches'> | undefined {
  if (source === '/*' || source === '/messages/*' || source === '/messages/modules/*') return {};
  if (source === '/twinChangeNotifications') return { neverMatches: 'the simulator sends no twin change notifications' };
  const match = /^\/messages\/modules\/([^/*]+)\/(?:\*|outputs\/(\*|[^/*]+))$/.exec(source);
  return match ? { fromModule: match[1], fromOutput: match[2] } : undefined;
}

/** Parses one `$edgeHub` route; throws a RouteError naming the route and what is wrong with it. */
export function parseRoute(name: string, text: string): Route {
  const fail = (problem: string): never => {
    throw new RouteError(`route "${name}" (${text}): ${problem}`);
  };
  if (typeof text !== 'string') return fail('a route must be a string');
  const match = ROUTE.exec(text);
  if (!match) return fail(`expected ${FORMS}`);
  const [, source, where, sinkText] = match;
  const from = parseSource(source) ?? fail(`unknown source ${source}; expected one of ${FORMS}`);
  let sink: RouteSink;
  if (sinkText === '$upstream') sink = { kind: 'upstream' };
  else {
    const brokered = BROKERED.exec(sinkText) ?? fail(`unknown sink ${sinkText}; expected $upstream or BrokeredEndpoint("/modules/<module>/inputs/<input>")`);
    sink = { kind: 'module', moduleId: brokered[2], inputName: brokered[3] };
  }
  let condition: Route['condition'];
  if (where !== undefined) {
    try {
      condition = parseCondition(where);
    } catch (err) {
      fail(`WHERE ${where}: ${(err as Error).message}`);
    }
  }
  return { name, text, ...from, condition, sink };
}

/**
 * Parses a deployment's routes and checks the modules they name exist, so a typo fails at start rather than as
 * messages that silently go nowhere. Errors for every bad route are reported together.
 */
export function parseRoutes(routes: Record<string, string>, moduleIds: readonly string[]): Route[] {
  const parsed: Route[] = [];
  const problems: string[] = [];
  for (const [name, text] of Object.entries(routes)) {
    try {
      const route = parseRoute(name, text);
      for (const moduleId of [route.fromModule, route.sink.kind === 'module' ? route.sink.moduleId : undefined]) {
        if (moduleId !== undefined && !moduleIds.includes(moduleId)) {
          throw new RouteError(`route "${name}" (${text}): no module "${moduleId}" in the deployment (modules: ${moduleIds.join(', ')})`);
        }
      }
      parsed.push(route);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new RouteError(problems.join('\n'));
  return parsed;
}

export interface RoutedMessage {
  moduleId: string;
  outputName?: string;
  condition: ConditionInput;
}

/** The distinct sinks a message goes to: a message matching several routes to one sink is delivered there once. */
export function sinksFor(routes: readonly Route[], message: RoutedMessage): RouteSink[] {
  const sinks = new Map<string, RouteSink>();
  for (const route of routes) {
    if (route.neverMatches) continue;
    if (route.fromModule !== undefined && route.fromModule !== message.moduleId) continue;
    if (route.fromOutput !== undefined && (message.outputName === undefined || (route.fromOutput !== '*' && route.fromOutput !== message.outputName))) continue;
    if (route.condition && !route.condition(message.condition)) continue;
    const key = route.sink.kind === 'upstream' ? '$upstream' : `${route.sink.moduleId}/${route.sink.inputName}`;
    sinks.set(key, route.sink);
  }
  return [...sinks.values()];
}

/** A message as routes see it: its source, and the properties and JSON body their conditions may test. */
export function routedMessage(deviceId: string, moduleId: string, { properties, systemProperties }: MessageProperties, body: Buffer): RoutedMessage {
  const { outputName, contentType, contentEncoding } = contentOf(systemProperties);
  return {
    moduleId,
    outputName,
    condition: {
      properties,
      system: {
        $contentType: contentType,
        $contentEncoding: contentEncoding,
        $connectionDeviceId: deviceId,
        $connectionModuleId: moduleId,
        $outputName: outputName,
        $messageId: systemProperties['$.mid'],
        $correlationId: systemProperties['$.cid'],
        $userId: systemProperties['$.uid'],
      },
      body: () => jsonBody(body, contentType, contentEncoding),
    },
  };
}

/** A JSON body when IoT Hub would parse one for routing: contentType application/json and a UTF-8 encoding. */
function jsonBody(body: Buffer, contentType?: string, contentEncoding?: string): unknown {
  if (!contentType?.toLowerCase().startsWith('application/json') || contentEncoding?.toLowerCase() !== 'utf-8') return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
