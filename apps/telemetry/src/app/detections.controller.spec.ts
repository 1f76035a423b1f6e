import type { Detections } from '@iev/frame-protocol';
import { IotEdgeSink, type IotEdgeSinkOptions, type OutputEventSender, type TextEvent } from '@iev/telemetry-sinks';
import { waitUntil } from '@iev/testing';
import { AllSourcesSilence } from '@iev/service-runtime';
import { ServerZmq } from '@iev/zmq-transport';
import type { Message } from 'azure-iot-device';
import pino from 'pino';
import { Registry } from 'prom-client';
import { DetectionsController } from './detections.controller';
import { TelemetryMetrics } from './telemetry.metrics';

/** What the sink hands to edgeHub, by message body. */
class RecordingSender implements OutputEventSender {
  readonly bodies: Array<Record<string, unknown>> = [];

  async sendOutputEvent(_outputName: string, message: Message): Promise<void> {
    this.bodies.push(JSON.parse(message.getData() as string));
  }
}

function detectionsOf(sourceId: string, sequence: number): Detections {
  return {
    frame: { sourceId, sequence, captureTimeMs: 1000 + sequence },
    width: 640,
    height: 480,
    modelId: 'ch_PP-OCRv4_det_infer@30a86f57',
    boxes: [],
    timings: { transportMs: 1, preprocessMs: 2, inferenceMs: 100, postprocessMs: 3 },
    publishedAtMs: 2000 + sequence,
  };
}

const logger = pino({ level: 'silent' });

/** Telemetry's metrics on `registry`, their detections socket never opened. */
function telemetryMetrics(registry = new Registry()): TelemetryMetrics {
  const server = new ServerZmq({ endpoint: 'ipc:///nonexistent/detections', bind: false, delivery: 'queue' });
  return new TelemetryMetrics(registry, server, new AllSourcesSilence({ limitMs: 0, clock: () => performance.now(), telling: { began: () => undefined, ended: () => undefined } }));
}

/** The controller over an upstream sink whose messages to edgeHub are recorded. */
function upstreamController(sinkOptions: Pick<IotEdgeSinkOptions, 'aggregation' | 'events'>, metrics = telemetryMetrics()) {
  const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, logger, ...sinkOptions });
  const sender = new RecordingSender();
  sink.attach(sender);
  return { sink, sender, controller: new DetectionsController(sink, metrics, logger) };
}

/** The source's detections with one line read, `EXIT`, under `lineId`. */
const withLine = (sourceId: string, sequence: number, lineId: number): Detections => ({
  ...detectionsOf(sourceId, sequence),
  runId: 'run1',
  boxes: [{ points: [[10, 10], [90, 10], [90, 30], [10, 30]], score: 0.9, lineId, text: 'EXIT', textScore: 0.95 }],
});

describe('DetectionsController: a camera inference removes', () => {
  // TELEMETRY_AGGREGATE_FRAMES without an interval sends a camera's summary only once it has that many frames: one
  // removed before held its last frames until telemetry stopped.
  it('has what the upstream summary holds of it sent at once', async () => {
    const { sink, sender, controller } = upstreamController({ aggregation: { frames: 100, intervalMs: 0 } });
    try {
      controller.onSources({ runId: 'run1', sourceIds: ['door', 'gate'], repeatMs: 500, complete: true });
      for (const sequence of [1, 2, 3]) {
        await controller.onDetections(detectionsOf('door', sequence));
        await controller.onDetections(detectionsOf('gate', sequence));
      }
      controller.onSources({ runId: 'run1', sourceIds: ['gate'], repeatMs: 500, complete: true });

      await waitUntil(() => sender.bodies.length > 0, "door's summary", { timeoutMs: 2000 });
      expect(sender.bodies).toEqual([expect.objectContaining({ type: 'detections-summary', sourceId: 'door', frames: 3, firstSequence: 1, lastSequence: 3 })]);
    } finally {
      await sink.close(1000);
    }
  });

  // Events mode: the camera's lines in view were dropped with it, so downstream had their text-appeared and never a
  // text-gone.
  it("has its lines in view said gone at once, without bringing its text-events series back", async () => {
    const registry = new Registry();
    const metrics = telemetryMetrics(registry);
    const events = { goneAfterMs: 60_000, confirmReads: 1, sent: (event: TextEvent) => metrics.textEventSent(event) };
    const { sink, sender, controller } = upstreamController({ aggregation: { frames: 1, intervalMs: 0 }, events }, metrics);
    try {
      controller.onSources({ runId: 'run1', sourceIds: ['door', 'gate'], repeatMs: 500, complete: true });
      for (const sequence of [1, 2]) {
        await controller.onDetections(withLine('door', sequence, 7));
        await controller.onDetections(withLine('gate', sequence, 7));
      }
      controller.onSources({ runId: 'run1', sourceIds: ['gate'], repeatMs: 500, complete: true });

      await waitUntil(() => sender.bodies.some(({ type }) => type === 'text-gone'), "door's text-gone", { timeoutMs: 2000 });
      expect(sender.bodies.map(({ type, sourceId }) => `${type} ${sourceId}`)).toEqual(['text-appeared door', 'text-appeared gate', 'text-gone door']);
      const series = [...(await registry.metrics()).matchAll(/^iev_telemetry_text_events_total\{(.*)\} \d+$/gm)].map(([, labels]) => labels);
      expect(series).toEqual(['source_id="gate",type="text-appeared"']);
    } finally {
      await sink.close(1000);
    }
  });

  // Per frame (the default, TELEMETRY_AGGREGATE_FRAMES=1 without an interval), nothing of a camera is held to start
  // again: its last frames, captured before the removal, are sent as every frame is.
  it('sends its detections still in flight per frame, as every frame is, though not into its series', async () => {
    const registry = new Registry();
    const { sink, sender, controller } = upstreamController({ aggregation: { frames: 1, intervalMs: 0 } }, telemetryMetrics(registry));
    try {
      controller.onSources({ runId: 'run1', sourceIds: ['door'], repeatMs: 500, complete: true });
      await controller.onDetections(detectionsOf('door', 1));
      controller.onSources({ runId: 'run1', sourceIds: [], repeatMs: 500, complete: true });
      await controller.onDetections(detectionsOf('door', 2));

      await waitUntil(() => sender.bodies.length === 2, "door's two frames", { timeoutMs: 2000 });
      expect(sender.bodies).toEqual([expect.objectContaining({ type: 'detections', frame: expect.objectContaining({ sequence: 1 }) }), expect.objectContaining({ type: 'detections', frame: expect.objectContaining({ sequence: 2 }) })]);
      expect(await registry.metrics()).toMatch(/^iev_telemetry_removed_camera_detections_dropped_total 0$/m);
      expect(await registry.metrics()).not.toMatch(/source_id="door"/);
    } finally {
      await sink.close(1000);
    }
  });

  // Frames of its last moments still in detection are published after the announcement: taken, they made its lines
  // appear again and go TELEMETRY_TEXT_GONE_MS later.
  it('drops its detections still in flight until it is announced again, then takes them as a new camera', async () => {
    const registry = new Registry();
    const { sink, sender, controller } = upstreamController({ aggregation: { frames: 1, intervalMs: 0 }, events: { goneAfterMs: 100, confirmReads: 1 } }, telemetryMetrics(registry));
    const sent = () => sender.bodies.map(({ type, lineId }) => `${type} ${lineId}`);
    try {
      controller.onSources({ runId: 'run1', sourceIds: ['door'], repeatMs: 500, complete: true });
      await controller.onDetections(withLine('door', 1, 7));
      controller.onSources({ runId: 'run1', sourceIds: [], repeatMs: 500, complete: true });
      await waitUntil(() => sender.bodies.length === 2, "door's text-gone", { timeoutMs: 2000 });
      await controller.onDetections(withLine('door', 2, 7));
      // Long enough for a line taken then to have gone again (goneAfterMs, its silence checked each quarter of it).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sent()).toEqual(['text-appeared 7', 'text-gone 7']);
      expect(await registry.metrics()).toMatch(/^iev_telemetry_removed_camera_detections_dropped_total 1$/m);

      controller.onSources({ runId: 'run1', sourceIds: ['door'], repeatMs: 500, complete: true });
      await controller.onDetections(withLine('door', 3, 8));
      await waitUntil(() => sender.bodies.length === 3, "door's line once added again", { timeoutMs: 2000 });
      expect(sent()).toEqual(['text-appeared 7', 'text-gone 7', 'text-appeared 8']);
    } finally {
      await sink.close(1000);
    }
  });
});
