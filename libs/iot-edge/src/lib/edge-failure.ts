import { TimeoutError, type EnvSource } from '@iev/service-runtime';
import type { EdgeConnectionKind } from './edge-environment';

/** What went wrong on the way to edgeHub; only `unauthorized` is worth stopping the module for. */
export type EdgeFailureKind = 'unreachable' | 'tls' | 'timeout' | 'unauthorized' | 'other';

export interface EdgeFailure {
  kind: EdgeFailureKind;
  /** What a person reads in the log: what happened, where, and what to check. */
  message: string;
}

/** The module's credentials were refused: retrying cannot help, so the module stops with this. */
export class EdgeAuthenticationError extends Error {
  override readonly name = 'EdgeAuthenticationError';
}

/**
 * The SDK turns every error of a client's first connection into an UnauthorizedError "Failure on first connection
 * (Not authorized): <cause>", refused TCP connections and TLS failures included: only the cause tells them apart.
 */
const FIRST_CONNECTION = /^(?:mqtt\.js returned )?Failure on first connection \(Not authorized\): ([\s\S]*?)(?: error)?$/;
/** A CONNACK refusing the credentials (MQTT 3.1.1 return codes 2, 4 and 5, as mqtt.js words them). */
const CREDENTIALS_REFUSED = /Connection refused: (Not authorized|Bad username or password|Identifier rejected)/i;
const NOTHING_LISTENING = /ECONNREFUSED/;
/** A unix socket path with nothing there yet: the workload API's socket before aziot-edged has made it. */
const NO_SOCKET = /ENOENT/;
const NAME_NOT_FOUND = /ENOTFOUND|EAI_AGAIN/;
const NETWORK = /EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EPIPE/;
const TLS = /EPROTO|SSL routines|certificate|CERT_|self[- ]signed|altnames|TLS/i;

/** Where the module dials edgeHub (host:port), as the SDK reads it from the environment. */
export function edgeHubAddress(kind: Exclude<EdgeConnectionKind, 'none'>, source: EnvSource = process.env): string {
  const connectionString = source['EdgeHubConnectionString'] ?? source['IotHubConnectionString'] ?? '';
  const fromString = (key: string) => new RegExp(`(?:^|;)${key}=([^;]+)`).exec(connectionString)?.[1];
  const host = kind === 'iotedge' ? source['IOTEDGE_GATEWAYHOSTNAME'] : (fromString('GatewayHostName') ?? fromString('HostName'));
  if (!host) return '(unknown gateway)';
  return /:\d+$/.test(host) ? host : `${host}:8883`;
}

/**
 * Tells apart why a call to edgeHub failed: nothing listening yet (edgeHub still starting), a name or network
 * that does not resolve or route, a TLS handshake that failed, no answer in time, or the credentials refused.
 */
export function describeEdgeFailure(error: unknown, address: string, kind: Exclude<EdgeConnectionKind, 'none'>): EdgeFailure {
  const raw = error instanceof Error ? error.message : String(error);
  const firstConnection = FIRST_CONNECTION.exec(raw);
  const cause = firstConnection ? firstConnection[1] : raw;
  if (error instanceof TimeoutError) {
    return { kind: 'timeout', message: `${error.what} to edgeHub at ${address} got no answer within ${error.timeoutMs} ms` };
  }
  // Before the socket and TLS patterns: the SDK's message is then the answer's own text, which may name a certificate.
  const refusal = workloadApiRefusal(error);
  if (refusal) return { kind: 'other', message: refusal };
  if (CREDENTIALS_REFUSED.test(cause)) {
    const fix =
      kind === 'iotedge'
        ? 'the IoT Edge security daemon signed a token edgeHub refused: check the module identity and IOTEDGE_MODULEGENERATIONID'
        : 'check the SharedAccessKey, DeviceId and ModuleId in EdgeHubConnectionString / IotHubConnectionString';
    return { kind: 'unauthorized', message: `edgeHub refused the module's credentials (${cause}): ${fix}` };
  }
  // Without the first-connection wrapper a socket error came from the workload API (signing), not from edgeHub.
  const peer = firstConnection ? `edgeHub not reachable yet at ${address}` : `the IoT Edge workload API not reachable yet at ${process.env['IOTEDGE_WORKLOADURI'] ?? '(IOTEDGE_WORKLOADURI unset)'}`;
  if (NOTHING_LISTENING.test(cause)) return { kind: 'unreachable', message: `${peer} (connection refused: nothing listening there; ${cause})` };
  if (NO_SOCKET.test(cause)) return { kind: 'unreachable', message: `${peer} (no socket there; ${cause})` };
  if (NAME_NOT_FOUND.test(cause)) return { kind: 'unreachable', message: `${peer} (host name not resolved; ${cause})` };
  if (NETWORK.test(cause)) return { kind: 'unreachable', message: `${peer} (network error; ${cause})` };
  if (TLS.test(cause)) {
    const trust = kind === 'iotedge' ? "the trust bundle from the workload API must have signed edgeHub's server certificate" : 'EdgeModuleCACertificateFile must hold the CA that signed edgeHub\'s server certificate';
    return { kind: 'tls', message: `TLS handshake with edgeHub at ${address} failed (${cause.split('\n')[0]}): ${trust}, and the host name must match it` };
  }
  return { kind: 'other', message: `IoT Edge connection to ${address} failed: ${cause}` };
}

/**
 * The workload API's answer when it would not give the trust bundle or sign the module's SAS token: the SDK's error
 * says only its status text ('Not found') or the answer's message, which reads as edgeHub's (or, naming a certificate,
 * as a TLS failure); its response and body say who refused which request and why.
 */
function workloadApiRefusal(error: unknown): string | undefined {
  const { response, responseBody } = (error ?? {}) as { response?: { statusCode?: unknown; req?: { path?: unknown } }; responseBody?: unknown };
  if (typeof response?.statusCode !== 'number') return undefined;
  let reason = typeof responseBody === 'string' ? responseBody : '';
  try {
    reason = String(JSON.parse(reason).message ?? reason);
  } catch {
    // Not JSON: the body as it came.
  }
  const where = process.env['IOTEDGE_WORKLOADURI'] ?? '(IOTEDGE_WORKLOADURI unset)';
  // The request it answered (the response's ClientRequest): ModuleClient.fromEnvironment asks for the trust bundle first.
  const trustBundle = typeof response.req?.path === 'string' && response.req.path.startsWith('/trust-bundle');
  // 404 to a signing: no module of this id and generation, as for a module left running from before its deployment changed.
  const fix =
    response.statusCode === 404 && !trustBundle
      ? ': IOTEDGE_MODULEGENERATIONID must be the module\'s current generation (one started before its deployment changed, or before the edge simulator was started with another state dir, has an earlier one: restart the module)'
      : '';
  const request = trustBundle ? 'give the trust bundle' : "sign the module's token";
  return `the IoT Edge workload API at ${where} refused to ${request} (${response.statusCode}${reason ? ` ${reason}` : ''})${fix}`;
}
