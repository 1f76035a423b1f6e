import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import type { Detections } from '@iev/frame-protocol';
import { EdgeAuthenticationError, EdgeModule } from '@iev/iot-edge';
import { Backoff } from '@iev/service-runtime';
import { eventually } from '@iev/testing';
import { IotEdgeSink } from '@iev/telemetry-sinks';
import pino from 'pino';

/**
 * What a module meets at boot, with the real azure-iot-device SDK: edgeHub not listening yet, an edgeHub that
 * takes the connection but never answers the twin, a certificate it does not trust, a listener that never
 * speaks, and credentials refused. Only the last one stops the module; each has its own message.
 */
const CONNECTION_ENV = ['EdgeHubConnectionString', 'IotHubConnectionString', 'EdgeModuleCACertificateFile', 'IOTEDGE_WORKLOADURI', 'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID', 'IOTEDGE_IOTHUBHOSTNAME', 'IOTEDGE_AUTHSCHEME', 'IOTEDGE_MODULEGENERATIONID', 'IOTEDGE_GATEWAYHOSTNAME'];

function useEnv(env: Record<string, string>): void {
  for (const name of CONNECTION_ENV) delete process.env[name];
  Object.assign(process.env, env);
}

/** A pino logger whose lines are kept as objects, to read what the module told the operator. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, messages: () => lines.map((line) => line.msg) };
}

function detections(sequence: number): Detections {
  return {
    frame: { sourceId: 'camera0', sequence, captureTimeMs: 1_000 + sequence },
    width: 640,
    height: 480,
    modelId: 'ch_pp_inf_dynamic@7ceb8792',
    boxes: [{ points: [[1, 2], [30, 2], [30, 12], [1, 12]], score: 0.9 }],
    timings: { transportMs: 1, preprocessMs: 2, inferenceMs: 100, postprocessMs: 3 },
    publishedAtMs: 2_000 + sequence,
  };
}

/** Whether the promise has rejected by now (a module's `fatal` must not, short of refused credentials). */
async function rejectedYet(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([promise.then(() => false, () => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

describe('boot order: a module and its edgeHub (real SDK, emulated edgeHub over TLS)', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  const savedEnv = { ...process.env };
  const started: EdgeModule[] = [];
  const sinks: IotEdgeSink[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-boot-order-'));
    hub = await EdgeHubEmulator.start({
      stateDir: dir,
      modules: [{ id: 'telemetry' }],
      routes: { upstream: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream' },
    });
  });

  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((sink) => sink.close(500)));
    await Promise.all(started.splice(0).map((edge) => edge.close()));
    await hub.startBroker();
    hub.ignoreTwinRequests(false);
  });

  afterAll(async () => {
    await hub?.stop();
    process.env = savedEnv;
    rmSync(dir, { recursive: true, force: true });
  });

  function startTelemetry(logger: pino.Logger, options: { requestTimeoutMs?: number; openTimeoutMs?: number } = {}) {
    const edge = EdgeModule.start({ name: 'telemetry', logger, backoff: new Backoff(200, 1000), ...options });
    if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
    started.push(edge);
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, aggregation: { frames: 1, intervalMs: 0 }, logger });
    sinks.push(sink);
    sink.attach(edge);
    edge.onConnected(() => sink.resume());
    return { edge, sink };
  }

  it('starts at once while edgeHub is not listening yet, says so, queues telemetry and delivers it when edgeHub arrives', async () => {
    await hub.stopBroker();
    useEnv(hub.moduleEnv('telemetry'));
    const { logger, messages } = recordingLogger();
    const before = Date.now();
    const { edge, sink } = startTelemetry(logger);
    expect(Date.now() - before).toBeLessThan(200);
    for (let sequence = 1; sequence <= 3; sequence++) await sink.write(detections(sequence));

    const refused = await eventually(() => messages().find((m) => m.startsWith('edgeHub not reachable yet')), 'the not-reachable line');
    expect(refused).toMatch(new RegExp(`^edgeHub not reachable yet at 127\\.0\\.0\\.1:${hub.port} \\(connection refused: nothing listening there; .*ECONNREFUSED.*\\); retrying in \\d+\\.\\d s \\(waiting for edgeHub's first connection; normal while IoT Edge starts\\)$`));
    expect(messages().join('\n')).not.toMatch(/credentials/);
    expect(edge.connected).toBe(false);
    expect(sink.stats().queued).toBe(3);

    const upstreamBefore = hub.upstreamMessages().length;
    await hub.startBroker();
    const delivered = (await hub.waitForUpstream(upstreamBefore + 3, 10_000)).slice(upstreamBefore);
    expect(delivered.map((m) => JSON.parse(m.body.toString()).frame.sequence)).toEqual([1, 2, 3]);
    expect(edge.connected).toBe(true);
    expect(await rejectedYet(edge.fatal)).toBe(false);
  }, 30_000);

  it('does not hang on an edgeHub that takes the connection but never answers the twin request, and connects once it does', async () => {
    hub.ignoreTwinRequests();
    useEnv(hub.moduleEnv('telemetry'));
    const { logger, messages } = recordingLogger();
    const { edge, sink } = startTelemetry(logger, { requestTimeoutMs: 1000 });
    await sink.write(detections(1));

    const hung = await eventually(() => messages().find((m) => m.includes('the twin request')), 'the twin timeout line');
    expect(hung).toMatch(new RegExp(`^the twin request to edgeHub at 127\\.0\\.0\\.1:${hub.port} got no answer within 1000 ms; retrying in \\d+\\.\\d s$`));
    expect(edge.connected).toBe(false);
    expect(edge.status()).toMatchObject({ module: 'telemetry', connected: false });
    expect(sink.stats().queued).toBe(1);

    const upstreamBefore = hub.upstreamMessages().length;
    hub.ignoreTwinRequests(false);
    await hub.waitForUpstream(upstreamBefore + 1, 10_000);
    expect(edge.connected).toBe(true);
    expect(await rejectedYet(edge.fatal)).toBe(false);
  }, 30_000);

  it('names a TLS failure as such: a module that does not trust the certificate edgeHub shows', async () => {
    const other = await EdgeHubEmulator.start({ modules: [{ id: 'x' }] });
    const strangerCa = join(dir, 'stranger-ca.pem');
    writeFileSync(strangerCa, other.caPem);
    await other.stop();
    useEnv({ EdgeHubConnectionString: hub.connectionString('telemetry'), EdgeModuleCACertificateFile: strangerCa });
    const { logger, messages } = recordingLogger();
    const { edge } = startTelemetry(logger);

    const tls = await eventually(() => messages().find((m) => m.startsWith('TLS handshake')), 'the TLS line');
    expect(tls).toMatch(new RegExp(`^TLS handshake with edgeHub at 127\\.0\\.0\\.1:${hub.port} failed \\(.*certificate.*\\): EdgeModuleCACertificateFile must hold the CA`));
    expect(await rejectedYet(edge.fatal)).toBe(false);
  }, 30_000);

  describe('a listener that accepts connections and never speaks', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('times the connection out with its own message and keeps retrying', async () => {
      const port = (silent.address() as { port: number }).port;
      useEnv({ EdgeHubConnectionString: hub.connectionString('telemetry').replace(/GatewayHostName=[^;]+/, `GatewayHostName=127.0.0.1:${port}`) });
      const { logger, messages } = recordingLogger();
      const { edge } = startTelemetry(logger, { openTimeoutMs: 1000 });

      const timeout = await eventually(() => messages().find((m) => m.startsWith('opening the connection')), 'the timeout line');
      expect(timeout).toMatch(new RegExp(`^opening the connection to edgeHub at 127\\.0\\.0\\.1:${port} got no answer within 1000 ms; retrying in \\d+\\.\\d s$`));
      expect(await rejectedYet(edge.fatal)).toBe(false);
    }, 30_000);
  });

  it('stops on a wrong key, with the credentials message and no retry', async () => {
    const caFile = join(dir, 'edge-ca.pem');
    writeFileSync(caFile, hub.caPem);
    useEnv({ EdgeHubConnectionString: hub.connectionString('telemetry', { wrongKey: true }), EdgeModuleCACertificateFile: caFile });
    const { logger, messages } = recordingLogger();
    const { edge } = startTelemetry(logger);

    const error = await edge.fatal.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EdgeAuthenticationError);
    expect((error as Error).message).toMatch(
      /^edgeHub refused the module's credentials \(Connection refused: Not authorized\): check the SharedAccessKey, DeviceId and ModuleId in EdgeHubConnectionString/,
    );
    expect(messages().filter((m) => m.includes('retrying'))).toEqual([]);
  }, 30_000);
});
