import type { Detections } from '@iev/frame-protocol';
import { IotEdgeSink, type OutputEventSender } from '@iev/telemetry-sinks';
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

describe('DetectionsController: a camera inference removes', () => {
  // TELEMETRY_AGGREGATE_FRAMES without an interval sends a camera's summary only once it has that many frames: one
  // removed before held its last frames until telemetry stopped.
  it('has what the upstream summary holds of it sent at once', async () => {
    const logger = pino({ level: 'silent' });
    const sink = new IotEdgeSink({ outputName: 'detections', queueCapacity: 100, aggregation: { frames: 100, intervalMs: 0 }, logger });
    const sender = new RecordingSender();
    sink.attach(sender);
    const server = new ServerZmq({ endpoint: 'ipc:///nonexistent/detections', bind: false, delivery: 'queue' });
    const detections = new AllSourcesSilence({ limitMs: 0, clock: () => performance.now(), telling: { began: () => undefined, ended: () => undefined } });
    const controller = new DetectionsController(sink, new TelemetryMetrics(new Registry(), server, detections), logger);
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
});
