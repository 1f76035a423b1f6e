import { SourcesAnnouncer } from '@iev/capture-sources';
import { detectionsCodec, DETECTIONS_TOPIC, sourcesCodec, SOURCES_TOPIC, type Detections } from '@iev/frame-protocol';
import { ClientZmq } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';

/**
 * Inference as telemetry and the preview see it: a detections publisher, bound where they connect, sending one message
 * a frame of each of its sources (no boxes: an empty view) at 10 fps, and announcing its cameras where asked to.
 */
export class DetectionsPublisher {
  private readonly client: ClientZmq;
  private readonly timer: NodeJS.Timeout;
  /** The sources it publishes detections of now, each with its next sequence number. */
  readonly sources: Map<string, number>;
  private announcer?: SourcesAnnouncer;

  constructor(endpoint: string, ...sourceIds: string[]) {
    this.sources = new Map((sourceIds.length > 0 ? sourceIds : ['camera0']).map((sourceId) => [sourceId, 0]));
    this.client = new ClientZmq({ endpoint, codecs: { [DETECTIONS_TOPIC]: detectionsCodec, [SOURCES_TOPIC]: sourcesCodec } });
    this.timer = setInterval(() => void this.publish(), 100);
  }

  /** Announces `sourceIds()` as inference announces its cameras (one run, its list complete), now and at each repeat. */
  announce(sourceIds: () => string[], repeatMs: number): SourcesAnnouncer {
    this.announcer = new SourcesAnnouncer(this.client, sourceIds, (error) => console.error(error), repeatMs);
    this.announcer.markComplete();
    return this.announcer;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.announcer?.close();
    await this.client.close();
  }

  private async publish(): Promise<void> {
    const now = Date.now();
    for (const [sourceId, sequence] of this.sources) {
      this.sources.set(sourceId, sequence + 1);
      const detections: Detections = {
        frame: { sourceId, sequence, captureTimeMs: now },
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
}
