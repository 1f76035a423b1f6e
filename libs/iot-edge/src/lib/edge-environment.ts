import type { EnvSource } from '@iev/service-runtime';

/** How a module reaches IoT Edge, read from the environment the same way the SDK's fromEnvironment does. */
export type EdgeConnectionKind = 'iotedge' | 'connection-string' | 'none';

/** The variables the IoT Edge runtime sets in every module's container. */
export const IOTEDGE_VARIABLES = [
  'IOTEDGE_WORKLOADURI',
  'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_AUTHSCHEME',
  'IOTEDGE_MODULEGENERATIONID',
] as const;

export class EdgeConfigError extends Error {
  override readonly name = 'EdgeConfigError';
}

/**
 * `iotedge` inside an IoT Edge deployment, `connection-string` in development (EdgeHubConnectionString or
 * IotHubConnectionString), `none` for a plain local run. Some but not all IOTEDGE_* variables is a broken
 * environment, reported with the missing names rather than left to the SDK.
 */
export function edgeConnectionKind(source: EnvSource = process.env): EdgeConnectionKind {
  if (source['EdgeHubConnectionString'] || source['IotHubConnectionString']) return 'connection-string';
  const present = IOTEDGE_VARIABLES.filter((name) => source[name]);
  if (present.length === 0) return 'none';
  const missing = IOTEDGE_VARIABLES.filter((name) => !source[name]);
  if (missing.length > 0) {
    throw new EdgeConfigError(`IoT Edge environment is incomplete: ${present.join(', ')} set but ${missing.join(', ')} missing`);
  }
  if (source['IOTEDGE_AUTHSCHEME']?.toLowerCase() !== 'sastoken') {
    throw new EdgeConfigError(`IOTEDGE_AUTHSCHEME must be sasToken, the only scheme IoT Edge modules use (got ${JSON.stringify(source['IOTEDGE_AUTHSCHEME'])})`);
  }
  return 'iotedge';
}
