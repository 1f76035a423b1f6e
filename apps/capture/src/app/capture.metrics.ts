import { RateMeter } from '@iev/service-runtime';
import { Counter, Gauge, type Registry } from 'prom-client';

export class CaptureMetrics {
  /** Frames published per second: the fps reported in the module twin. */
  readonly rate = new RateMeter();
  readonly framesPublished: Counter;
  readonly sourceRestarts: Counter;
  readonly sourceUp: Gauge;
  readonly sourceDownSeconds: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.framesPublished = new Counter({ name: 'iev_capture_frames_published_total', help: 'Frames published on the frames socket', registers });
    this.sourceRestarts = new Counter({ name: 'iev_capture_source_restarts_total', help: 'Times the video source failed and was restarted', registers });
    this.sourceUp = new Gauge({ name: 'iev_capture_source_up', help: '1 while the video source delivers frames', registers });
    this.sourceDownSeconds = new Counter({
      name: 'iev_capture_source_down_seconds_total',
      help: 'Time from a source failing to its next published frame, summed over outages',
      registers,
    });
  }
}
