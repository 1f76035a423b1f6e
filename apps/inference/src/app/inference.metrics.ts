import { counterReadAtScrape, RateMeter } from '@iev/service-runtime';
import type { ZmqEventServer } from '@iev/zmq-transport';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the inference module. */
export class InferenceMetrics {
  readonly framesProcessed: Counter;
  readonly framesSkipped: Counter;
  readonly framesRejected: Counter<'reason'>;
  readonly boxes: Counter;
  readonly lines: Counter<'outcome'>;
  readonly stageSeconds: Histogram<'stage'>;
  readonly lastFrameAt: Gauge;
  /** Frames detected per second: the fps reported in the module twin. */
  readonly rate = new RateMeter();

  constructor(registry: Registry, server: Pick<ZmqEventServer<never>, 'stats'>) {
    const registers = [registry];
    this.framesProcessed = new Counter({ name: 'iev_inference_frames_processed_total', help: 'Frames run through text detection', registers });
    this.framesSkipped = new Counter({
      name: 'iev_inference_frames_skipped_total',
      help: 'Frames never processed, from gaps in the sequence numbers (slow consumer or publisher drops)',
      registers,
    });
    this.framesRejected = new Counter({ name: 'iev_inference_frames_rejected_total', help: 'Decoded frames that could not be processed', labelNames: ['reason'], registers });
    this.boxes = new Counter({ name: 'iev_inference_boxes_total', help: 'Text boxes detected', registers });
    this.lines = new Counter({
      name: 'iev_inference_lines_total',
      help: 'Boxes by what recognition did with them: read by the model, carried from an earlier frame, dropped below REC_MIN_SCORE',
      labelNames: ['outcome'],
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'iev_inference_stage_seconds',
      help: 'Time per frame in each stage',
      labelNames: ['stage'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    this.lastFrameAt = new Gauge({ name: 'iev_inference_last_frame_timestamp_seconds', help: 'When the last frame was processed', registers });
    counterReadAtScrape(registry, 'iev_inference_messages_malformed_total', 'Messages on the frames socket that failed to decode and were dropped', () => server.stats().malformed);
  }
}
