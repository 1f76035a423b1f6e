import { EventEmitter } from 'node:events';
import type { DeviceTransport } from 'azure-iot-device';
import { pendingTwinRequestsOf, type PendingTwinRequests } from './pending-twin-requests';

/**
 * What the topic of a message the SDK reads as a desired-properties patch starts with (`.../desired/?$version=<n>` as
 * edgeHub sends it): the SDK's own test, without the '/', which the module's subscription (`desired/#`) also takes.
 */
const DESIRED_PATCH_TOPIC_PREFIX = '$iothub/twin/PATCH/properties/desired';

/** The topic they answer a module's twin request on: `$iothub/twin/res/<status>/?$rid=<id>`. */
const TWIN_RESPONSE_TOPIC_PREFIX = '$iothub/twin/res/';

/** The SDK MQTT transport's MQTT connection: an emitter of ('message', topic, payload), which its twin client listens to. */
interface TransportMqtt {
  _mqtt?: unknown;
}

/** The request whose answer was dropped fails with this. */
export class MalformedTwinAnswerError extends Error {
  override readonly name = 'MalformedTwinAnswerError';
}

/** A twin message dropped before the SDK read it. */
export interface MalformedTwinMessage {
  /** A desired-properties patch, or the answer to one of the module's twin requests. */
  kind: 'desired patch' | 'twin response';
  /** An answer's request failed with MalformedTwinAnswerError; false where none waited for it (it had timed out). */
  failedRequest: boolean;
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
 * edgeHub always sends JSON objects; this guards the module against one that does not. An answer dropped fails its
 * request at once: the SDK has no timeout of its own, and a request never answered keeps its callback, and whatever
 * awaits it, for as long as the connection. It wraps that connection's emit, the one place its messages pass before
 * any listener, and lets every other message (direct methods, a reported patch's empty 204 answer) through untouched.
 */
export function onMalformedTwinMessages(transport: DeviceTransport, onMalformed: (message: MalformedTwinMessage) => void): boolean {
  const mqtt = (transport as DeviceTransport & TransportMqtt)._mqtt;
  const pending = pendingTwinRequestsOf(transport);
  if (!(mqtt instanceof EventEmitter) || mqtt.listenerCount('message') === 0 || !pending) return false;
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
    const failedRequest = kind === 'twin response' && failRequest(pending, topic as string, reason);
    onMalformed({ kind, topic: topic as string, payload: text, reason, failedRequest });
    return false;
  };
  return true;
}

/** Fails the request the answer on `topic` is to, as the SDK settles one (its callback taken out, then called). */
function failRequest(pending: PendingTwinRequests, topic: string, reason: string): boolean {
  const requestId = new URLSearchParams(topic.slice(topic.indexOf('?') + 1)).get('$rid');
  const callback = requestId === null ? undefined : pending[requestId];
  if (typeof callback !== 'function') return false;
  delete pending[requestId as string];
  callback(new MalformedTwinAnswerError(`edgeHub answered the twin request with no JSON object (${reason})`));
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
