import type { Client } from 'aedes';

// The MQTT topics of IoT Hub's device protocol, as the module SDK uses them with edgeHub.

export const METHODS_TOPIC = '$iothub/methods/POST/#';
export const DESIRED_TOPIC = '$iothub/twin/PATCH/properties/desired/#';
export const TWIN_RESPONSE_TOPIC = '$iothub/twin/res/#';

/** What a module can listen for, by the topic filter the SDK subscribes to. */
export type ModuleSubscription = 'methods' | 'desired' | 'inputs';

export function subscriptionFilter(deviceId: string, moduleId: string, what: ModuleSubscription): string {
  return what === 'methods' ? METHODS_TOPIC : what === 'desired' ? DESIRED_TOPIC : `devices/${deviceId}/modules/${moduleId}/inputs/#`;
}

/** The topic filters a module may subscribe to; IoT Hub refuses any other. */
export function allowedSubscriptions(deviceId: string, moduleId: string): string[] {
  return [METHODS_TOPIC, DESIRED_TOPIC, TWIN_RESPONSE_TOPIC, subscriptionFilter(deviceId, moduleId, 'inputs')];
}

/** Where a module's message arrives on one of its inputs; the trailing '/' matters: the SDK only recognises input topics with a property segment, even an empty one. */
export function inputTopic(deviceId: string, moduleId: string, inputName: string, propertySegment: string): string {
  return `devices/${deviceId}/modules/${moduleId}/inputs/${inputName}/${propertySegment}`;
}

export const methodRequestTopic = (methodName: string, requestId: string) => `$iothub/methods/POST/${methodName}/?$rid=${requestId}`;
export const desiredPatchTopic = (version: number) => `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
export const twinResponseTopic = (status: number, requestId: string, version?: number) =>
  `$iothub/twin/res/${status}/?$rid=${requestId}${version === undefined ? '' : `&$version=${version}`}`;

/** What a module published, by its topic. */
export type ModulePublication =
  /** A message (telemetry or an output event), with its topic's property segment. */
  | { kind: 'event'; propertySegment: string }
  | { kind: 'twinGet'; requestId: string }
  | { kind: 'reported'; requestId: string }
  | { kind: 'methodResponse'; status: number; requestId: string };

/** The publication a topic stands for, or undefined for a topic the module may not publish to. */
export function publicationOf(deviceId: string, moduleId: string, topic: string): ModulePublication | undefined {
  const eventsPrefix = `devices/${deviceId}/modules/${moduleId}/messages/events/`;
  if (topic.startsWith(eventsPrefix) || topic === eventsPrefix.slice(0, -1)) {
    // The SDK ends the topic with '/' after output events' properties; values are URL-encoded, so it is no part of one.
    return { kind: 'event', propertySegment: topic.slice(eventsPrefix.length).replace(/\/$/, '') };
  }
  const requestId = topicQuery(topic).get('$rid') ?? '';
  if (topic.startsWith('$iothub/twin/GET/')) return { kind: 'twinGet', requestId };
  if (topic.startsWith('$iothub/twin/PATCH/properties/reported/')) return { kind: 'reported', requestId };
  if (topic.startsWith('$iothub/methods/res/')) return { kind: 'methodResponse', status: Number(topic.split('/')[3]), requestId };
  return undefined;
}

/** The `?$rid=...&...` query of a `$iothub/...` topic. */
function topicQuery(topic: string): URLSearchParams {
  const at = topic.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : topic.slice(at + 1));
}

/** Whether a connected module subscribed to a topic filter (aedes keeps them per client, restored on reconnect). */
export function subscribed(client: Client, topicFilter: string): boolean {
  // Not in aedes's typings, but the documented per-client state its subscribe handler maintains.
  return Boolean((client as Client & { subscriptions: Record<string, unknown> }).subscriptions[topicFilter]);
}
