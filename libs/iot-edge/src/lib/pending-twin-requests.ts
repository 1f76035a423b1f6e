import type { DeviceTransport } from 'azure-iot-device';

/** How the SDK's MQTT twin client settles a request: its callback, taken out of the table, then called. */
type TwinRequestCallback = (error: Error) => void;

/** The requests awaiting an answer, by request id. */
export type PendingTwinRequests = Record<string, TwinRequestCallback | undefined>;

/** The SDK MQTT transport's twin client (azure-iot-device-mqtt's mqtt_twin_client.js). */
interface TransportTwinClient {
  _twinClient?: { _pendingTwinRequests?: unknown };
}

/**
 * The callbacks of the twin requests the SDK's MQTT twin client awaits an answer to (GET, reported updates), by the
 * request id their answer's topic names; undefined when the SDK no longer keeps them there. The SDK has no timeout of
 * its own: a request whose answer never comes stays in it, with whatever awaits it, for as long as the connection.
 */
export function pendingTwinRequestsOf(transport: DeviceTransport): PendingTwinRequests | undefined {
  const pending = (transport as DeviceTransport & TransportTwinClient)._twinClient?._pendingTwinRequests;
  return pending !== null && typeof pending === 'object' ? (pending as PendingTwinRequests) : undefined;
}

/**
 * Runs `send`, which makes twin requests through the SDK, and returns what it returns with a function that takes the
 * requests it made and still await their answer out of the SDK: called when the module gives
 * up on them (its timeout), a late answer is then ignored as the SDK ignores one to a request it does not know. On a
 * connected link the SDK files a request before `send` returns; one it files later (still subscribing to the answers'
 * topic) is not seen, and stays.
 */
export function trackTwinRequests<T>(transport: DeviceTransport, send: () => T): { sent: T; forgetUnanswered: () => void } {
  const pending = pendingTwinRequestsOf(transport);
  const before = new Set(Object.keys(pending ?? {}));
  const sent = send();
  const made = Object.keys(pending ?? {}).filter((requestId) => !before.has(requestId));
  const forgetUnanswered = (): void => made.forEach((requestId) => delete pending?.[requestId]);
  return { sent, forgetUnanswered };
}
