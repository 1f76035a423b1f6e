import { DeviceMethodResponse, type DeviceTransport, type MethodMessage } from 'azure-iot-device';

/** What the SDK's MQTT transport names the event of a call to a direct method: its onDeviceMethod listens for it. */
const METHOD_EVENT_PREFIX = 'method_';

/** The topic edgeHub and IoT Hub send a direct method call on: `$iothub/methods/POST/<name>/?$rid=<id>`. */
const METHOD_TOPIC_PREFIX = '$iothub/methods/POST/';

/**
 * What the SDK's topic parser throws, out of its MQTT message handler, where the topic's fourth path segment is empty:
 * a method name that is empty or starts with `/`, `#` or a backslash (its URL parser reads a backslash as a `/`).
 */
const SDK_NO_METHOD_NAME_ERROR = "Device method call's MQTT topic name does not include the method name.";

/** The SDK MQTT transport's handler of the method topic: rebound from the instance at every connect. */
interface MethodTopicHandling {
  _onDeviceMethod?: (topic: string, payload: Buffer) => void;
  _topics?: { method?: { handler: (topic: string, payload: Buffer) => void } };
}

/**
 * A direct method call no registered handler heard, or one without a request id (its handler, if the module has the
 * method, is not called: see onUnregisteredMethods).
 */
export interface UnregisteredMethodCall {
  /**
   * As the SDK read it from the topic (URL-escaped where it escapes: a space as %20); where the SDK read no name
   * (malformed), as the topic carries it.
   */
  methodName: string;
  /** The SDK read no method name from its topic (empty, or starting with `/`, `#` or a backslash): no module has it. */
  malformed: boolean;
  /**
   * Where to answer it; undefined when the topic carried no request id the SDK could read (a `?` or `#` in the method
   * name ends the topic's path there): such a call cannot be answered, and its caller gets 504.
   */
  response: DeviceMethodResponse | undefined;
}

/**
 * Hands each direct method call that no handler registered with onMethod heard to `onUnregistered`; false when the
 * SDK no longer dispatches calls as relied on here, so nothing was hooked.
 *
 * The module SDK has no way to answer a method nobody registered (no catch-all handler: azure-iot-sdk-node issue
 * #78). Its MQTT transport emits a call on `$iothub/methods/POST/<name>/?$rid=<id>` as the event `method_<name>`,
 * which onMethod listens for; a call no listener hears is dropped, and its caller waits out its whole response
 * timeout for a 504, as from a hung module. This wraps that transport's emit, the one place relying on the event's
 * name; the registered methods' listeners not found under that name means the SDK changed it.
 *
 * A call without a request id the SDK could read is handed over as such (no response) and never to the method's
 * handler, registered or not: the SDK's own handler throws on it ('requestId must be a string') out of its MQTT
 * message handler, which kills the process (a call to `getStatus#x`, read as `getStatus`).
 *
 * A call whose topic the SDK reads no method name from (an empty name, or one starting with `/`, `#` or a backslash)
 * is handed over too, named and with its request id as the topic carries them: the SDK's parser throws on it before
 * any event (see SDK_NO_METHOD_NAME_ERROR), which also killed the process. That wraps the transport's handler of the
 * method topic, which it binds from the instance at every connect, and catches only that error.
 */
export function onUnregisteredMethods(transport: DeviceTransport, registered: readonly string[], onUnregistered: (call: UnregisteredMethodCall) => void): boolean {
  const methodTopic = transport as DeviceTransport & MethodTopicHandling;
  const onDeviceMethod = methodTopic._onDeviceMethod?.bind(transport);
  if (!onDeviceMethod || !registered.every((name) => transport.listenerCount(METHOD_EVENT_PREFIX + name) > 0)) return false;
  methodTopic._onDeviceMethod = (topic, payload) => {
    try {
      onDeviceMethod(topic, payload);
    } catch (error) {
      if (!(error instanceof Error) || error.message !== SDK_NO_METHOD_NAME_ERROR) throw error;
      const { methodName, requestId } = readMethodTopic(topic);
      onUnregistered({ methodName, malformed: true, response: requestId ? new DeviceMethodResponse(requestId, transport) : undefined });
    }
  };
  // Already connected: the current connection's handler was bound before the wrap.
  if (methodTopic._topics?.method) methodTopic._topics.method.handler = methodTopic._onDeviceMethod;
  const emit = transport.emit.bind(transport);
  transport.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (typeof event !== 'string' || !event.startsWith(METHOD_EVENT_PREFIX)) return emit(event, ...args);
    const methodName = event.slice(METHOD_EVENT_PREFIX.length);
    const requestId = (args[0] as Partial<MethodMessage> | undefined)?.requestId;
    if (typeof requestId !== 'string' || requestId === '') {
      onUnregistered({ methodName, malformed: false, response: undefined });
      return false;
    }
    const heard = emit(event, ...args);
    if (!heard) onUnregistered({ methodName, malformed: false, response: new DeviceMethodResponse(requestId, transport) });
    return heard;
  };
  return true;
}

/** The method name and request id a method call's topic carries, read as sent (`<prefix><name>/?$rid=<id>`). */
function readMethodTopic(topic: string): { methodName: string; requestId: string | undefined } {
  const rest = topic.startsWith(METHOD_TOPIC_PREFIX) ? topic.slice(METHOD_TOPIC_PREFIX.length) : topic;
  const queryAt = rest.lastIndexOf('/?');
  if (queryAt === -1) return { methodName: rest, requestId: undefined };
  const requestId = new URLSearchParams(rest.slice(queryAt + 2)).get('$rid');
  return { methodName: rest.slice(0, queryAt), requestId: requestId || undefined };
}
