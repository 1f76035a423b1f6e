import { detectionsCodec, DETECTIONS_TOPIC, type Detections } from '@iev/frame-protocol';
import { ClientZmq } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';

/** Inference as telemetry and the preview see it: a detections publisher, bound where they connect, sending one message a frame (no boxes: an empty view) at 10 fps. */
export class DetectionsPublisher {
  private readonly client: ClientZmq;
  private readonly timer: NodeJS.Timeout;
  private sequence = 0;

  constructor(
    endpoint: string,
    private readonly sourceId = 'camera0',
  ) {
    this.client = new ClientZmq({ endpoint, codecs: { [DETECTIONS_TOPIC]: detectionsCodec } });
    this.timer = setInterval(() => void this.publish(), 100);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client.close();
  }

  private async publish(): Promise<void> {
    const now = Date.now();
    const detections: Detections = {
      frame: { sourceId: this.sourceId, sequence: this.sequence++, captureTimeMs: now },
      width: 640,
      height: 480,
      modelId: 'spec',
      boxes: [],
      timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
      publishedAtMs: now,
    };
    await lastValueFrom(this.client.emit(DETECTIONS_TOPIC, detections), { defaultValue: undefined });
  }
}
