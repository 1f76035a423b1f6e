import { DeviceMethodResponse, type DeviceTransport, type MethodMessage } from 'azure-iot-device';

/** What the SDK's MQTT transport names the event of a call to a direct method: its onDeviceMethod listens for it. */
const METHOD_EVENT_PREFIX = 'method_';

/**
 * A direct method call no registered handler heard, or one without a request id (its handler, if the module has the
 * method, is not called: see onUnregisteredMethods).
 */
export interface UnregisteredMethodCall {
  /** As the SDK read it from the topic (URL-escaped where it escapes: a space as %20). */
  methodName: string;
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
 */
export function onUnregisteredMethods(transport: DeviceTransport, registered: readonly string[], onUnregistered: (call: UnregisteredMethodCall) => void): boolean {
  if (!registered.every((name) => transport.listenerCount(METHOD_EVENT_PREFIX + name) > 0)) return false;
  const emit = transport.emit.bind(transport);
  transport.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (typeof event !== 'string' || !event.startsWith(METHOD_EVENT_PREFIX)) return emit(event, ...args);
    const methodName = event.slice(METHOD_EVENT_PREFIX.length);
    const requestId = (args[0] as Partial<MethodMessage> | undefined)?.requestId;
    if (typeof requestId !== 'string' || requestId === '') {
      onUnregistered({ methodName, response: undefined });
      return false;
    }
    const heard = emit(event, ...args);
    if (!heard) onUnregistered({ methodName, response: new DeviceMethodResponse(requestId, transport) });
    return heard;
  };
  return true;
}
