import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeHubEmulator, type UpstreamMessage } from '@iev/edge-hub-emulator';
import type { Detections } from '@iev/frame-protocol';
import { EdgeModule } from '@iev/iot-edge';
import { Backoff, env } from '@iev/service-runtime';
import { waitUntil } from '@iev/testing';
import { IotEdgeSink } from '@iev/telemetry-sinks';
import pino from 'pino';

/**
 * The modules' side of IoT Edge (EdgeModule, IotEdgeSink) with the real azure-iot-device SDK, against the
 * emulated edgeHub: a real MQTT broker over TLS with SAS-token authentication and the workload API.
 */
const logger = pino({ level: 'silent' });
const twinSpec = {
  aggregateFrames: env.integer('aggregateFrames', { min: 1, max: 1000 }, 1),
  label: env.string('label', 'none'),
};

function detections(sequence: number, boxCount = 1): Detections {
  return {
    frame: { sourceId: 'camera0', sequence, captureTimeMs: 1_000 + sequence },
    width: 640,
    height: 480,
    modelId: 'ch_pp_inf_dynamic@7ceb8792',
    boxes: Array.from({ length: boxCount }, () => ({ points: [[1, 2], [30, 2], [30, 12], [1, 12]], score: 0.9 })),
    timings: { transportMs: 1, preprocessMs: 2, inferenceMs: 100, postprocessMs: 3 },
    publishedAtMs: 2_000 + sequence,
  };
}

const bodyOf = (message: UpstreamMessage) => JSON.parse(message.body.toString('utf8'));

describe('IoT Edge through the module SDK (real SDK, emulated edgeHub over TLS)', () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let edge: EdgeModule<typeof twinSpec>;
  let sink: IotEdgeSink;
  const applied: Array<Record<string, unknown>> = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-iot-edge-'));
    hub = await EdgeHubEmulator.start({
      stateDir: dir,
      modules: [{ id: 'telemetry', desired: { aggregateFrames: 1, label: 'from-manifest' } }],
      routes: { upstream: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream' },
    });
    // As inside IoT Edge: fromEnvironment finds the IOTEDGE_* variables and asks the workload API to sign.
    Object.assign(process.env, hub.moduleEnv('telemetry'));
    sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 20, aggregation: { frames: 1, intervalMs: 0 }, logger });
    const started = EdgeModule.start({
      name: 'telemetry',
      logger,
      backoff: new Backoff(100, 1000),
      settings: {
        spec: twinSpec,
        startup: { aggregateFrames: 1, label: 'none' },
        apply: (changes, next) => {
          applied.push(changes);
          sink.configure({ frames: next.aggregateFrames, intervalMs: 0 });
        },
      },
      reported: () => ({ fps: 12.5 }),
      status: () => ({ upstream: sink.stats() }),
    });
    if (!started) throw new Error('EdgeModule did not see the IoT Edge environment');
    edge = started;
    sink.attach(edge);
    edge.onConnected(() => sink.resume());
    // start() does not wait for edgeHub: the connection comes up in the background.
    await waitUntil(() => edge.connected, 'the connection to edgeHub');
  });

  afterAll(async () => {
    await sink?.close(1000);
    await edge?.close();
    await hub?.stop();
    process.env = savedEnv;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the desired properties at start and reports version, settings and its own properties', async () => {
    expect(applied[0]).toEqual({ label: 'from-manifest' });
    const reported = await hub.waitForReported('telemetry', (r) => (r['settings'] as Record<string, unknown>)?.['label'] === 'from-manifest', 10_000);
    expect(reported).toMatchObject({ version: '0.1.0', fps: 12.5, settings: { aggregateFrames: 1, label: 'from-manifest' }, lastDesired: { status: 'applied' } });
    // null in a reported patch removes the property: no error is left in the twin.
    expect(reported['lastDesired']).not.toHaveProperty('error');
  });

  it('sends detections on the output "detections" as JSON with the source and model as properties', async () => {
    const before = hub.upstreamMessages().length;
    await sink.write(detections(1, 3));
    const [message] = (await hub.waitForUpstream(before + 1, 10_000)).slice(before);
    expect(message).toMatchObject({
      moduleId: 'telemetry',
      outputName: 'detections',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      properties: { sourceId: 'camera0', modelId: 'ch_pp_inf_dynamic@7ceb8792', messageType: 'detections' },
    });
    expect(bodyOf(message)).toMatchObject({ type: 'detections', frame: { sequence: 1 }, boxes: detections(1, 3).boxes });
  });

  it('applies a twin patch live and rejects an invalid value with a reported error, keeping the module running', async () => {
    await hub.patchDesired('telemetry', { aggregateFrames: 3 });
    await hub.waitForReported('telemetry', (r) => (r['settings'] as Record<string, unknown>)?.['aggregateFrames'] === 3, 10_000);
    const before = hub.upstreamMessages().length;
    for (let sequence = 10; sequence < 16; sequence++) await sink.write(detections(sequence, sequence % 2));
    const summaries = (await hub.waitForUpstream(before + 2, 10_000)).slice(before).map(bodyOf);
    expect(summaries.map((s) => [s.type, s.frames, s.firstSequence, s.lastSequence, s.boxes.total])).toEqual([
      ['detections-summary', 3, 10, 12, 1],
      ['detections-summary', 3, 13, 15, 2],
    ]);

    await hub.patchDesired('telemetry', { aggregateFrames: 0, label: 'ok' });
    const reported = await hub.waitForReported('telemetry', (r) => (r['lastDesired'] as Record<string, unknown>)?.['status'] === 'rejected', 10_000);
    expect((reported['lastDesired'] as Record<string, unknown>)['error']).toBe('aggregateFrames must be an integer from 1 to 1000 (got 0)');
    expect(reported['settings']).toEqual({ aggregateFrames: 3, label: 'ok' });
    expect(edge.currentSettings()).toEqual({ aggregateFrames: 3, label: 'ok' });
    await hub.patchDesired('telemetry', { aggregateFrames: 1 });
    await hub.waitForReported('telemetry', (r) => (r['settings'] as Record<string, unknown>)?.['aggregateFrames'] === 1, 10_000);
  });

  it('answers the getStatus direct method', async () => {
    const result = await hub.invokeMethod('telemetry', 'getStatus', {}, 10_000);
    expect(result.status).toBe(200);
    expect(result.payload).toMatchObject({ module: 'telemetry', version: '0.1.0', connected: true, settings: { aggregateFrames: 1 }, upstream: { dropped: 0 } });
  });

  it('queues while edgeHub is down and delivers everything in order when it is back; beyond the bound the oldest are dropped and reported', async () => {
    const before = hub.upstreamMessages().length;
    await hub.stopBroker();
    await waitUntil(() => !edge.connected, 'the module to notice the outage');
    for (let sequence = 100; sequence < 110; sequence++) await sink.write(detections(sequence));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.stats().queued).toBe(10);
    await hub.startBroker();
    const delivered = (await hub.waitForUpstream(before + 10, 20_000)).slice(before).map(bodyOf);
    expect(delivered.map((d) => d.frame.sequence)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    // The last acknowledgement may still be on its way back when the message is in.
    await waitUntil(() => sink.stats().queued === 0, 'the queue to empty');
    expect(sink.stats().dropped).toBe(0);

    // 25 messages into a queue of 20 while edgeHub is away: the 5 oldest go, and the first one delivered says so.
    const afterFirstOutage = hub.upstreamMessages().length;
    await hub.stopBroker();
    await waitUntil(() => !edge.connected, 'the module to notice the second outage');
    for (let sequence = 200; sequence < 225; sequence++) await sink.write(detections(sequence));
    await hub.startBroker();
    const messages = (await hub.waitForUpstream(afterFirstOutage + 20, 20_000)).slice(afterFirstOutage);
    expect(messages.map((m) => bodyOf(m).frame.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => 205 + i));
    expect(messages[0].properties['droppedBefore']).toBe('5');
    expect(bodyOf(messages[0]).droppedMessagesBefore).toBe(5);
    expect(messages[1].properties['droppedBefore']).toBeUndefined();
    await waitUntil(() => sink.stats().queued === 0, 'the queue to empty');
    expect(sink.stats().dropped).toBe(5);
  }, 60_000);

  it('resends a message whose acknowledgement was lost, counted as resent, not dropped, whatever is dropped while it waits', async () => {
    const before = hub.upstreamMessages().length;
    const stats = sink.stats();
    // edgeHub has message 300 and goes away before its PUBACK (the listener runs before the broker answers).
    const cut = (message: UpstreamMessage) => {
      if (bodyOf(message).frame.sequence !== 300) return;
      hub.upstream.off('message', cut);
      void hub.stopBroker();
    };
    hub.upstream.on('message', cut);
    await sink.write(detections(300));
    await waitUntil(() => !edge.connected, 'the module to notice the outage');
    // 25 more into a queue of 20 while edgeHub is away: 301..305 are dropped, not 300, which edgeHub has.
    for (let sequence = 301; sequence < 326; sequence++) await sink.write(detections(sequence));
    await hub.startBroker();
    const lastSequence = () => {
      const last = hub.upstreamMessages().at(-1);
      return last && bodyOf(last).frame.sequence;
    };
    await waitUntil(() => lastSequence() === 325, () => `the last message, 325 (last so far: ${lastSequence()})`, { timeoutMs: 20_000 });
    const messages = hub.upstreamMessages().slice(before);
    expect(messages.map((m) => bodyOf(m).frame.sequence)).toEqual([300, 300, ...Array.from({ length: 20 }, (_, i) => 306 + i)]);
    // The same message twice, which a consumer deduplicates on its id; the drops are announced by the next one.
    expect(messages[1].systemProperties['$.mid']).toBe(messages[0].systemProperties['$.mid']);
    expect(messages[1].body).toEqual(messages[0].body);
    expect(messages[2].properties['droppedBefore']).toBe('5');
    await waitUntil(() => sink.stats().queued === 0, 'the queue to empty');
    expect(sink.stats()).toMatchObject({ sent: stats.sent + 21, dropped: stats.dropped + 5, resent: stats.resent + 1 });
  }, 60_000);
});
