import { TimeoutError } from '@iev/service-runtime';
import { describeEdgeFailure, edgeHubAddress } from './edge-failure';

// The SDK's own wording (azure-iot-device-mqtt wraps every first-connection error so); the real-SDK cases (refused,
// TLS, timeout, credentials) run against the emulated edgeHub in apps/pipeline-e2e (iot-edge-boot-order.spec.ts).
const firstConnection = (cause: string) => new Error(`mqtt.js returned Failure on first connection (Not authorized): ${cause} error`);

describe('edgeHubAddress', () => {
  it('reads where the SDK dials: IOTEDGE_GATEWAYHOSTNAME, or the connection string, port 8883 unless given', () => {
    expect(edgeHubAddress('iotedge', { IOTEDGE_GATEWAYHOSTNAME: 'edgehub-host' })).toBe('edgehub-host:8883');
    expect(edgeHubAddress('connection-string', { EdgeHubConnectionString: 'HostName=h.azure-devices.net;DeviceId=d;ModuleId=m;SharedAccessKey=k;GatewayHostName=127.0.0.1:9000' })).toBe('127.0.0.1:9000');
    expect(edgeHubAddress('connection-string', { IotHubConnectionString: 'HostName=h.azure-devices.net;DeviceId=d;ModuleId=m;SharedAccessKey=k' })).toBe('h.azure-devices.net:8883');
  });
});

describe('describeEdgeFailure', () => {
  const failureOf = (error: unknown) => describeEdgeFailure(error, 'edgehub:8883', 'iotedge');

  it('tells a name that does not resolve yet (Docker DNS at boot) from a refused connection, both retried', () => {
    expect(failureOf(firstConnection('getaddrinfo EAI_AGAIN edgehub'))).toEqual({
      kind: 'unreachable',
      message: 'edgeHub not reachable yet at edgehub:8883 (host name not resolved; getaddrinfo EAI_AGAIN edgehub)',
    });
    expect(failureOf(firstConnection('connect ECONNREFUSED 172.18.0.2:8883')).message).toBe(
      'edgeHub not reachable yet at edgehub:8883 (connection refused: nothing listening there; connect ECONNREFUSED 172.18.0.2:8883)',
    );
  });

  it('blames the workload API, not edgeHub, for a socket error outside the MQTT connection (signing a token)', () => {
    const failure = describeEdgeFailure(new Error('connect ENOENT /var/run/iotedge/workload.sock'), 'edgehub:8883', 'iotedge');
    expect(failure.kind).toBe('unreachable');
    expect(failure.message).toMatch(/^the IoT Edge workload API not reachable yet at .* \(no socket there; connect ENOENT \/var\/run\/iotedge\/workload.sock\)$/);
    const refused = describeEdgeFailure(Object.assign(new Error('connect ECONNREFUSED /var/run/iotedge/workload.sock'), { code: 'ECONNREFUSED' }), 'edgehub:8883', 'iotedge');
    expect(refused.message).toMatch(/^the IoT Edge workload API not reachable yet at /);
  });

  it('says which call went unanswered, and only refused credentials are final', () => {
    expect(failureOf(new TimeoutError('the twin request', 15_000))).toEqual({ kind: 'timeout', message: 'the twin request to edgeHub at edgehub:8883 got no answer within 15000 ms' });
    expect(failureOf(firstConnection('Connection refused: Server unavailable')).kind).toBe('other');
    for (const refusal of ['Not authorized', 'Bad username or password', 'Identifier rejected']) {
      expect(failureOf(firstConnection(`Connection refused: ${refusal}`)).kind).toBe('unauthorized');
    }
  });
});
