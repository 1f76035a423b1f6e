import { EventEmitter } from 'node:events';
import type { DeviceTransport } from 'azure-iot-device';

/** The topic edgeHub and IoT Hub send a desired-properties patch on: `$iothub/twin/PATCH/properties/desired/?$version=<n>`. */
const DESIRED_PATCH_TOPIC_PREFIX = '$iothub/twin/PATCH/properties/desired/';

/** The topic they answer a module's twin request on: `$iothub/twin/res/<status>/?$rid=<id>`. */
const TWIN_RESPONSE_TOPIC_PREFIX = '$iothub/twin/res/';

/** The SDK MQTT transport's MQTT connection: an emitter of ('message', topic, payload), which its twin client listens to. */
interface TransportMqtt {
  _mqtt?: unknown;
}

/** A twin message dropped before the SDK read it. */
export interface MalformedTwinMessage {
  /** A desired-properties patch, or the answer to one of the module's twin requests (which then times out). */
  kind: 'desired patch' | 'twin response';
  topic: string;
  payload: string;
  /** Why: not JSON (the parser's error), or JSON that is not an object. */
  reason: string;
}

/**
 * Drops each desired-properties patch, and each answer to a twin request with a body, that is not a JSON object
 * before the SDK reads it, handing it to `onMalformed`; false when the SDK's transport no longer has the MQTT
 * connection relied on here, so nothing was hooked.
 *
 * The SDK's twin client parses both (`JSON.parse`, azure-iot-device-mqtt's mqtt_twin_client.js, _onMqttMessage and
 * _onResponseMessage) in its listener of its MQTT connection's messages, which that connection calls from
 * process.nextTick: one that is not JSON threw there, uncaught, and the process died of it. A patch that is JSON but not
 * an object (`null`) passed the SDK and failed the module's own apply instead, which left every later patch unapplied.
 * edgeHub always sends JSON objects; this guards the module against one that does not. An answer dropped leaves its
 * request to time out, as one never answered. It wraps that connection's emit, the one place its messages pass before
 * any listener, and lets every other message (direct methods, a reported patch's empty 204 answer) through untouched.
 */
export function onMalformedTwinMessages(transport: DeviceTransport, onMalformed: (message: MalformedTwinMessage) => void): boolean {
  const mqtt = (transport as DeviceTransport & TransportMqtt)._mqtt;
  if (!(mqtt instanceof EventEmitter) || mqtt.listenerCount('message') === 0) return false;
  const emit = mqtt.emit.bind(mqtt);
  mqtt.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    const [topic, payload] = args;
    const kind = event === 'message' && typeof topic === 'string' ? twinMessageKind(topic) : undefined;
    if (kind === undefined) return emit(event, ...args);
    // As the SDK reads it: JSON.parse takes a Buffer as its UTF-8 text. It parses no empty answer, which is a reported
    // patch's (204); any other it takes for an answer with no twin, which its twin GET read the properties of, and threw.
    const text = String(payload);
    if (kind === 'twin response' && text === '' && twinResponseStatus(topic as string) === '204') return emit(event, ...args);
    const reason = whyNotAJsonObject(text);
    if (reason === undefined) return emit(event, ...args);
    onMalformed({ kind, topic: topic as string, payload: text, reason });
    return false;
  };
  return true;
}

function twinMessageKind(topic: string): MalformedTwinMessage['kind'] | undefined {
  if (topic.startsWith(DESIRED_PATCH_TOPIC_PREFIX)) return 'desired patch';
  if (topic.startsWith(TWIN_RESPONSE_TOPIC_PREFIX)) return 'twin response';
  return undefined;
}

/** `204` of `$iothub/twin/res/204/?$rid=3&$version=9`. */
function twinResponseStatus(topic: string): string {
  return topic.slice(TWIN_RESPONSE_TOPIC_PREFIX.length).split('/')[0];
}

function whyNotAJsonObject(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `JSON, but ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`}, not an object`;
  return undefined;
}
