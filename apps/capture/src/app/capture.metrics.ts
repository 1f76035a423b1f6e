import { counterReadAtScrape, RateMeter } from '@iev/service-runtime';
import type { ZmqOnDemandClientStats } from '@iev/zmq-transport';
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the frames transport counts, read when metrics are scraped. */
export interface FramesTransportStats {
  stats(): ZmqOnDemandClientStats & { consumers: number };
}

export class CaptureMetrics {
  /** Frames handed to the transport per second: the fps reported in the module twin. */
  readonly rate = new RateMeter();
  readonly framesPublished: Counter;
  readonly sourceRestarts: Counter;
  readonly sourceUp: Gauge;
  readonly sourceDownSeconds: Counter;
  readonly sourceSwitchFailures: Counter;
  readonly decoderMessages: Counter;
  readonly consumers: Gauge;

  constructor(registry: Registry, transport: FramesTransportStats) {
    const registers = [registry];
    this.framesPublished = new Counter({ name: 'iev_capture_frames_published_total', help: 'Frames handed to the frames transport', registers });
    this.sourceRestarts = new Counter({ name: 'iev_capture_source_restarts_total', help: 'Times the video source failed and was restarted', registers });
    this.sourceUp = new Gauge({ name: 'iev_capture_source_up', help: '1 while the video source delivers frames', registers });
    this.sourceDownSeconds = new Counter({
      name: 'iev_capture_source_down_seconds_total',
      help: 'Time from a source failing to its next published frame, summed over outages; an outage adds its time at each retry while it lasts',
      registers,
    });
    this.sourceSwitchFailures = new Counter({
      name: 'iev_capture_source_switch_failures_total',
      help: 'Attempts of a source switched to make-before-break (a twin change) that failed before its first frame, the running source delivering on',
      registers,
    });
    this.decoderMessages = new Counter({ name: 'iev_capture_decoder_messages_total', help: 'Warnings and errors the decoder wrote while frames flowed: corrupt frames, packets lost on a stream', registers });
    counterReadAtScrape(registry, 'iev_capture_frames_sent_total', 'Frames sent to consumers that asked, once per consumer', () => transport.stats().sent);
    counterReadAtScrape(registry, 'iev_capture_peers_refused_total', 'Consumers refused because their CURVE key is not in ZMQ_CURVE_CLIENT_KEYS', () => transport.stats().refusedPeers);
    counterReadAtScrape(registry, 'iev_capture_frames_unclaimed_total', 'Frames replaced by a newer one before any consumer asked for them', () => transport.stats().unclaimed);
    this.consumers = new Gauge({
      name: 'iev_capture_consumers',
      help: 'Consumers heard from in the last few seconds (inference, preview, ...)',
      registers,
      collect() {
        this.set(transport.stats().consumers);
      },
    });
  }
}
