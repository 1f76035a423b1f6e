import { EventEmitter } from 'node:events';
import type { DeviceTransport } from 'azure-iot-device';

/** The topic edgeHub and IoT Hub send a desired-properties patch on: `$iothub/twin/PATCH/properties/desired/?$version=<n>`. */
const DESIRED_PATCH_TOPIC_PREFIX = '$iothub/twin/PATCH/properties/desired/';

/** The SDK MQTT transport's MQTT connection: an emitter of ('message', topic, payload), which its twin client listens to. */
interface TransportMqtt {
  _mqtt?: unknown;
}

/** A desired-properties patch dropped before the SDK read it. */
export interface MalformedDesiredPatch {
  topic: string;
  payload: string;
  /** Why: not JSON (the parser's error), or JSON that is not an object. */
  reason: string;
}

/**
 * Drops each desired-properties patch that is not a JSON object before the SDK reads it, handing it to `onMalformed`;
 * false when the SDK's transport no longer has the MQTT connection relied on here, so nothing was hooked.
 *
 * The SDK's twin client parses a patch (`JSON.parse`, azure-iot-device-mqtt's mqtt_twin_client.js) in its listener
 * of its MQTT connection's messages, which that connection calls from process.nextTick: a patch that is not JSON
 * threw there, uncaught, and the process died of it. One that is JSON but not an object (`null`) passed the SDK and
 * failed the module's own apply instead, which left every later patch unapplied. edgeHub always sends a JSON object;
 * this guards the module against one that does not. It wraps that connection's emit, the one place its messages pass
 * before any listener, and lets every other message (direct methods, twin responses) through untouched.
 */
export function onMalformedDesiredPatches(transport: DeviceTransport, onMalformed: (patch: MalformedDesiredPatch) => void): boolean {
  const mqtt = (transport as DeviceTransport & TransportMqtt)._mqtt;
  if (!(mqtt instanceof EventEmitter) || mqtt.listenerCount('message') === 0) return false;
  const emit = mqtt.emit.bind(mqtt);
  mqtt.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    const [topic, payload] = args;
    if (event !== 'message' || typeof topic !== 'string' || !topic.startsWith(DESIRED_PATCH_TOPIC_PREFIX)) return emit(event, ...args);
    // As the SDK reads it: JSON.parse takes a Buffer as its UTF-8 text.
    const text = String(payload);
    const reason = whyNotAJsonObject(text);
    if (reason === undefined) return emit(event, ...args);
    onMalformed({ topic, payload: text, reason });
    return false;
  };
  return true;
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
