import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs only: the real SDK against the emulated edgeHub (a tool); the library never imports it
import { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { detectionsCodec, type Detections } from '@iev/frame-protocol';
import { EdgeModule } from '@iev/iot-edge';
import { Backoff } from '@iev/service-runtime';
import { waitUntil } from '@iev/testing';
import type { Message } from 'azure-iot-device';
import pino from 'pino';
import type { AggregationSettings } from './detections-aggregator';
import { IotEdgeSink, type OutputEventSender } from './iot-edge-sink';
import { EDGE_HUB_MAX_MESSAGE_BYTES, MESSAGE_BUDGET_BYTES } from './message-budget';

/** The largest frame the protocol carries: 1000 boxes, each with a distinct 900-character text of 3-byte characters. */
function crowdedFrame(sequence: number): Detections {
  const detections: Detections = {
    frame: { sourceId: 'camera0', sequence, captureTimeMs: 1000 + sequence },
    width: 1920,
    height: 1080,
    modelId: 'ch_PP-OCRv4_det_infer@30a86f57',
    boxes: Array.from({ length: 1000 }, (_, i) => ({
      points: [[i, 0], [i + 50, 0], [i + 50, 20], [i, 20]],
      score: 0.9,
      text: `${i} `.padEnd(900, '字'),
      textScore: 0.95,
    })),
    timings: { transportMs: 1, preprocessMs: 2, inferenceMs: 100, postprocessMs: 3 },
    publishedAtMs: 2000 + sequence,
  };
  // Through the codec, as telemetry receives it.
  return detectionsCodec.decode(detectionsCodec.encode(detections));
}

/** What the sink hands to sendOutputEvent: the SDK's own Message objects. */
class RecordingSender implements OutputEventSender {
  readonly messages: Message[] = [];
  /** Sends that are stored, then answered with an error, as when edgeHub's acknowledgement is lost. */
  acknowledgementsToLose = 0;

  async sendOutputEvent(_outputName: string, message: Message): Promise<void> {
    this.messages.push(message);
    if (this.acknowledgementsToLose > 0) {
      this.acknowledgementsToLose -= 1;
      throw new Error('connection lost before the acknowledgement');
    }
  }
}

function sinkFor(aggregation: AggregationSettings, lines: Record<string, unknown>[] = []) {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, aggregation, logger });
  const sender = new RecordingSender();
  sink.attach(sender);
  return { sink, sender };
}

const bodyBytes = (message: Message) => Buffer.byteLength(message.getData() as string);
const propertiesBytes = (message: Message) =>
  message.properties.propertyList.reduce((bytes, { key, value }) => bytes + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
const bodyOf = (message: Message) => JSON.parse(message.getData() as string);

describe('IotEdgeSink', () => {
  it('fits a frame of 1000 boxes with 900-character texts into one message within the budget, saying how many boxes were cut', async () => {
    const { sink, sender } = sinkFor({ frames: 1, intervalMs: 0 });
    await sink.write(crowdedFrame(7));
    await sink.close(5000);

    expect(sender.messages).toHaveLength(1);
    const [message] = sender.messages;
    expect(bodyBytes(message) + propertiesBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    expect(MESSAGE_BUDGET_BYTES).toBeLessThan(EDGE_HUB_MAX_MESSAGE_BYTES);
    const body = bodyOf(message);
    expect(body.boxes.length).toBeGreaterThan(0);
    expect(body.boxes.length + body.truncatedBoxes).toBe(1000);
    // The boxes kept are the frame's first ones, whole.
    expect(body.boxes[0]).toEqual(crowdedFrame(7).boxes[0]);
    expect(body).toMatchObject({ type: 'detections', frame: { sourceId: 'camera0', sequence: 7 } });
  });

  it('fits a summary of such frames within the budget: exact counts, the texts and newest boxes that fit, and how many were cut', async () => {
    const { sink, sender } = sinkFor({ frames: 2, intervalMs: 0 });
    await sink.write(crowdedFrame(1));
    await sink.write(crowdedFrame(2));
    await sink.close(5000);

    expect(sender.messages).toHaveLength(1);
    const [message] = sender.messages;
    expect(bodyBytes(message) + propertiesBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    const body = bodyOf(message);
    expect(body).toMatchObject({ type: 'detections-summary', frames: 2, framesWithText: 2, boxes: { total: 2000, min: 1000, max: 1000 } });
    // 1000 distinct texts: 100 listed at most, fewer to fit (each takes some 2.7 KB); every one not listed counted.
    expect(body.texts.length).toBeGreaterThan(0);
    expect(body.texts.length).toBeLessThan(100);
    expect(body.texts.length + body.truncatedTexts).toBe(1000);
    expect(body.texts[0]).toEqual({ text: crowdedFrame(2).boxes[0].text, frames: 2 });
    expect(body.last.boxes.length + body.truncatedBoxes).toBe(1000);
  });

  it('sends events about the lines where told to, each its own message, its type the messageType that routes filter on', async () => {
    const logger = pino({ level: 'silent' });
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, aggregation: { frames: 1, intervalMs: 0 }, logger, events: { goneAfterMs: 2000, confirmReads: 1 }, textMatch: /^\d/ });
    const sender = new RecordingSender();
    sink.attach(sender);
    const [first] = crowdedFrame(1).boxes;
    const reading = (sequence: number, text: string): Detections => ({ ...crowdedFrame(sequence), runId: 'run-a', boxes: [{ ...first, lineId: 3, text }, { ...first, lineId: 4, text: 'no digit first' }] });
    await sink.write(reading(1, '0 ABC'));
    await sink.write(reading(2, '0 ABC'));
    await sink.write(reading(3, '0 ABD'));
    await sink.close(5000);

    expect(sender.messages.map((message) => message.properties.getValue('messageType'))).toEqual(['text-appeared', 'text-changed']);
    expect(sender.messages[1].properties.getValue('sourceId')).toBe('camera0');
    expect(sender.messages[1].properties.getValue('modelId')).toBe('ch_PP-OCRv4_det_infer@30a86f57');
    expect(sender.messages[1].messageId).toEqual(expect.any(String));
    expect(bodyOf(sender.messages[1])).toEqual({
      type: 'text-changed',
      sourceId: 'camera0',
      runId: 'run-a',
      lineId: 3,
      modelId: 'ch_PP-OCRv4_det_infer@30a86f57',
      text: '0 ABD',
      textScore: 0.95,
      previousText: '0 ABC',
      points: first.points,
      sequence: 3,
      captureTimeMs: 1003,
    });
  });

  it('sends no message it cannot fit, and logs why', async () => {
    const lines: Record<string, unknown>[] = [];
    const { sink, sender } = sinkFor({ frames: 1, intervalMs: 0 }, lines);
    await sink.write({ ...crowdedFrame(1), modelId: 'm'.repeat(EDGE_HUB_MAX_MESSAGE_BYTES) });
    await sink.write(crowdedFrame(2));
    await sink.close(5000);

    expect(sender.messages.map((message) => bodyOf(message).frame.sequence)).toEqual([2]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'upstream message too large even without its boxes and texts: not sent' }));
  });

  it('resends a message with its message id, so a consumer can drop the copy edgeHub stored before the acknowledgement was lost', async () => {
    // A queue of 2 drops frames 1 and 2 before edgeHub is there; frame 3 announces them, on each attempt.
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 2, aggregation: { frames: 1, intervalMs: 0 }, logger: pino({ level: 'silent' }) });
    for (let sequence = 1; sequence <= 4; sequence++) await sink.write({ ...crowdedFrame(sequence), boxes: [] });
    const sender = new RecordingSender();
    sender.acknowledgementsToLose = 1;
    sink.attach(sender);
    await sink.close(5000);

    const [first, resent, next] = sender.messages;
    expect(sender.messages).toHaveLength(3);
    expect(first.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(resent.messageId).toBe(first.messageId);
    expect(resent.getData()).toBe(first.getData());
    expect(resent.properties.getValue('droppedBefore')).toBe('2');
    expect(bodyOf(resent)).toMatchObject({ frame: { sequence: 3 }, droppedMessagesBefore: 2 });
    expect(bodyOf(next).frame.sequence).toBe(4);
    expect(next.messageId).not.toBe(first.messageId);
  });

  it('says the queue is full again at the next outage, not only at the first drop since start-up', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 2, aggregation: { frames: 1, intervalMs: 0 }, logger });
    const sender = new (class extends RecordingSender {
      down = false;
      override async sendOutputEvent(outputName: string, message: Message): Promise<void> {
        if (this.down) throw new Error('not connected to edgeHub');
        return super.sendOutputEvent(outputName, message);
      }
    })();
    const frame = (sequence: number) => ({ ...crowdedFrame(sequence), boxes: [] });
    const queueFull = () => lines.filter(({ msg }) => msg.startsWith('upstream queue full'));

    try {
      // First outage: edgeHub not there yet.
      for (let sequence = 1; sequence <= 5; sequence++) await sink.write(frame(sequence));
      expect(queueFull()).toHaveLength(1);
      sink.attach(sender);
      while (sink.stats().queued > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(sender.messages.length).toBeGreaterThan(0);

      // Second outage, after messages got through.
      sender.down = true;
      for (let sequence = 6; sequence <= 10; sequence++) await sink.write(frame(sequence));
      expect(queueFull()).toHaveLength(2);
      expect(queueFull()[1].msg).toMatch(/^upstream queue full \(2\): dropping the oldest messages \(\d+ dropped so far\)$/);
    } finally {
      // A failed expectation must not leave the queue retrying and jest waiting on it.
      sender.down = false;
      sink.attach(sender);
      await sink.close(5000);
    }
  });
});

describe('IotEdgeSink with EdgeModule (real SDK, emulated edgeHub)', () => {
  const WARN = 40;
  let dir: string;
  let hub: EdgeHubEmulator;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-sink-boot-'));
    hub = await EdgeHubEmulator.start({ stateDir: dir, modules: [{ id: 'telemetry' }], routes: { up: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream' } });
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('at boot, with edgeHub not there yet, says once at info that messages queue, warns of nothing, and sends them when it comes; an outage after that warns', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const warnings = () => lines.filter(({ level }) => level >= WARN);
    await hub.stopBroker();
    Object.assign(process.env, hub.moduleEnv('telemetry'));
    const edge = EdgeModule.start({ name: 'telemetry', logger, backoff: new Backoff(100, 500, 0) });
    if (!edge) throw new Error('EdgeModule did not see the IoT Edge environment');
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, aggregation: { frames: 1, intervalMs: 0 }, logger });
    sink.attach(edge);
    edge.onConnected(() => sink.resume());
    const frame = (sequence: number) => ({ ...crowdedFrame(sequence), boxes: [] });
    try {
      for (let sequence = 1; sequence <= 3; sequence++) await sink.write(frame(sequence));
      await waitUntil(() => sink.stats().failedAttempts >= 3, 'sends to fail while edgeHub is away', { timeoutMs: 10_000 });
      expect(warnings()).toEqual([]);
      expect(lines.filter(({ msg }) => msg === 'upstream messages queue until the first connection to edgeHub')).toHaveLength(1);

      await hub.startBroker();
      await hub.waitForUpstream(3, 10_000);
      expect(warnings()).toEqual([]);

      await hub.stopBroker();
      await waitUntil(() => !edge.connected, 'the connection to drop', { timeoutMs: 10_000 });
      await sink.write(frame(4));
      await waitUntil(() => warnings().some(({ msg }) => msg === 'upstream send failed; retrying'), 'a warning of the outage', { timeoutMs: 10_000 });
      await hub.startBroker();
      await hub.waitForUpstream(4, 10_000);
    } finally {
      await sink.close(5000);
      await edge.close();
    }
  });
});
