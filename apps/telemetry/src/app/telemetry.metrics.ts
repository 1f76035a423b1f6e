import { AllSourcesSilence, counterReadAtScrape, EpisodeWatch, OwnSilence, RateMeter } from '@iev/service-runtime';
import type { ServerZmq } from '@iev/zmq-transport';
import type { EdgeModule, OutboundQueueStats } from '@iev/iot-edge';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TelemetryTroubles, UpstreamOutage } from './telemetry-health';

/** How often silence and edgeHub's absence are judged: an episode is logged whether or not anyone asks /health. */
const HEALTH_CHECK_MS = 1000;

export interface TelemetryWatchOptions {
  /** TELEMETRY_SILENCE_MS; 0: silence is never judged. */
  silenceLimitMs: number;
  /** DETECTIONS_CONNECT, named in the silence's log line. */
  detectionsConnect: string;
  logger: Pick<Logger, 'info' | 'warn'>;
}

export class TelemetryMetrics {
  /** Per source (`source_id`): one telemetry serves every camera's detections. */
  readonly messages: Counter<'source_id'>;
  readonly sinkErrors: Counter<'source_id'>;
  readonly endToEndSeconds: Histogram<'source_id'>;
  /** Detections per second reaching the sink: the fps reported in the module twin. */
  readonly rate = new RateMeter();
  /** This process's own silences (stopped, a suspended VM): the detections waiting meanwhile were not silent. */
  private readonly ownSilence = new OwnSilence(HEALTH_CHECK_MS);
  /** Monotonic, less this process's own silence: what detections' arrivals are timed on. */
  private readonly activeClock = () => performance.now() - this.ownSilence.ms;
  /** Each source's detections' arrivals; silence counts from start until the first. */
  private readonly silence: AllSourcesSilence;
  private upstream: EpisodeWatch<UpstreamOutage> | undefined;
  private readonly healthCheck: NodeJS.Timeout;

  constructor(
    registry: Registry,
    server: ServerZmq,
    private readonly watch: TelemetryWatchOptions,
  ) {
    const registers = [registry];
    const labelNames = ['source_id'] as const;
    this.messages = new Counter({ name: 'iev_telemetry_detections_total', help: 'Detections messages written to the sink', labelNames, registers });
    this.sinkErrors = new Counter({ name: 'iev_telemetry_sink_errors_total', help: 'Detections the sink failed to write', labelNames, registers });
    this.endToEndSeconds = new Histogram({
      name: 'iev_telemetry_capture_to_sink_seconds',
      help: 'From the frame leaving the decoder to its detections reaching telemetry',
      labelNames,
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    counterReadAtScrape(
      registry,
      'iev_telemetry_detections_dropped_total',
      'Detections dropped, oldest first, because the sink fell TELEMETRY_QUEUE_CAPACITY behind',
      () => server.stats().skipped,
    );
    counterReadAtScrape(registry, 'iev_telemetry_messages_malformed_total', 'Messages on the detections socket that failed to decode', () => server.stats().malformed);
    // Inference publishes a message for every frame it processes, boxes or none: an empty view is no silence, and
    // CAPTURE_FPS=1 is a message a second (a slower camera is judged by its own pace, AllSourcesSilence). When every
    // camera is out, telemetry cannot tell, from where it sits, a dead camera from a stopped inference or a wrong
    // DETECTIONS_CONNECT, and in every case nothing reaches upstream: it says so, and the module up the chain that is
    // degraded (capture's camera down, inference's stuck detection) says why. A video file played to its end, its
    // capture healthy and done, is silent too: TELEMETRY_SILENCE_MS=0 where silence is by design.
    const silence = (this.silence = new AllSourcesSilence({
      limitMs: watch.silenceLimitMs,
      clock: this.activeClock,
      telling: {
        began: (silentMs) =>
          watch.logger.warn(
            { silentSeconds: Math.round(silentMs / 1000), detectionsConnect: watch.detectionsConnect },
            `no detections for ${Math.round(silentMs / 1000)} s on ${watch.detectionsConnect}: inference stopped, unreachable or publishing elsewhere, or no camera delivering (capture's and inference's /health say which)`,
          ),
        ended: (silentMs) => watch.logger.info({ silentSeconds: Math.round(silentMs / 1000) }, `detections again after about ${Math.round(silentMs / 1000)} s`),
      },
    }));
    new Gauge({
      name: 'iev_telemetry_seconds_since_detections',
      help: "Seconds since the source's last detections message (one a frame inference processed, boxes or none)",
      labelNames,
      registers,
      collect() {
        for (const { sourceId, ms } of silence.ages()) this.set({ source_id: sourceId }, ms / 1000);
      },
    });
    this.healthCheck = setInterval(() => this.troubles(), HEALTH_CHECK_MS);
    this.healthCheck.unref();
  }

  /** A detections message of the source arrived (before the sink takes it: a sink failing is not silence). */
  received(sourceId: string): void {
    this.silence.arrived(sourceId);
  }

  /** What makes /health degraded now, each episode logged once as it begins and once as it ends. */
  troubles(): TelemetryTroubles {
    this.ownSilence.check(performance.now());
    return { silentForMs: this.silence.check(), upstream: this.upstream?.check() };
  }

  close(): void {
    clearInterval(this.healthCheck);
  }

  /**
   * Upstream (IoT Edge) message counts, read from the sink's queue at scrape time; and edgeHub away past `graceMs`
   * (TELEMETRY_UPSTREAM_GRACE_MS), on /health and logged once as it begins and once as it ends.
   */
  watchUpstream(registry: Registry, stats: () => OutboundQueueStats, link: Pick<EdgeModule, 'connected' | 'disconnectedForMs'>, graceMs: number): void {
    let droppedBefore = 0;
    this.upstream = new EpisodeWatch(
      (): UpstreamOutage | undefined => {
        if (link.connected || link.disconnectedForMs < graceMs) return undefined;
        const { queued, dropped } = stats();
        return { connected: false, downForMs: link.disconnectedForMs, queued, dropped };
      },
      {
        began: ({ downForMs, queued, dropped }) => {
          droppedBefore = dropped;
          this.watch.logger.warn(
            { downSeconds: Math.round(downForMs / 1000), queued, dropped },
            `edgeHub away for ${Math.round(downForMs / 1000)} s: upstream messages wait in the queue (${queued} queued, ${dropped} dropped so far)`,
          );
        },
        ended: ({ downForMs }) => {
          const dropped = stats().dropped - droppedBefore;
          this.watch.logger.info({ downSeconds: Math.round(downForMs / 1000), dropped }, `edgeHub back after about ${Math.round(downForMs / 1000)} s (${dropped} upstream messages dropped meanwhile)`);
        },
      },
    );
    counterReadAtScrape(registry, 'iev_telemetry_upstream_sent_total', 'Messages sent upstream through edgeHub', () => stats().sent);
    counterReadAtScrape(registry, 'iev_telemetry_upstream_dropped_total', 'Upstream messages dropped, oldest first, while edgeHub was unreachable', () => stats().dropped);
    counterReadAtScrape(registry, 'iev_telemetry_upstream_failed_attempts_total', 'Upstream sends that failed and were retried', () => stats().failedAttempts);
    counterReadAtScrape(
      registry,
      'iev_telemetry_upstream_resent_total',
      'Upstream messages sent again after a send that may have reached edgeHub (its acknowledgement lost): possible duplicates, same messageId',
      () => stats().resent,
    );
    new Gauge({
      name: 'iev_telemetry_upstream_queued',
      help: 'Upstream messages waiting for edgeHub',
      registers: [registry],
      collect() {
        this.set(stats().queued);
      },
    });
  }
}
