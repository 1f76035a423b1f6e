import { NO_DETECTIONS_CAUSE, SilenceWatch, troublesHealth, EpisodeWatch, type AllSourcesSilence, type TroublesHealth } from '@iev/service-runtime';
import type { EdgeModule, OutboundQueueStats } from '@iev/iot-edge';
import type { Logger } from 'pino';

/** edgeHub away past TELEMETRY_UPSTREAM_GRACE_MS, as /health says it. */
export interface UpstreamOutage {
  connected: false;
  /** Since the connection dropped, or since start before the first. */
  downForMs: number;
  /** Upstream messages waiting, and dropped since start (TELEMETRY_UPSTREAM_QUEUE full). */
  queued: number;
  dropped: number;
}

/** What makes telemetry degraded, as /health says it; each undefined while all is well. */
export interface TelemetryTroubles {
  /** No detections from any source for TELEMETRY_SILENCE_MS, or three of each one's own intervals (AllSourcesSilence, in TelemetryWatch.health()). */
  silentForMs?: number;
  upstream?: UpstreamOutage;
}

export type TelemetryHealth = TroublesHealth<TelemetryTroubles>;

export interface TelemetryWatchOptions {
  /** TELEMETRY_SILENCE_MS; 0: silence is never judged. */
  silenceLimitMs: number;
  /** DETECTIONS_CONNECT, named in the silence's log line. */
  detectionsConnect: string;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Telemetry's part of /health: degraded, and so unhealthy, while no detections arrive (`silentForMs`: inference
 * stopped or unreachable, DETECTIONS_CONNECT wrong, or no camera delivering) or edgeHub has been away past its grace
 * (`upstream`: messages queue, the oldest dropped once the queue is full). Each episode is logged once as it begins
 * and once as it ends. Nothing restarts for it: /live stays 200.
 */
export class TelemetryWatch {
  private readonly watch: SilenceWatch;
  /** Each source's detections' arrivals; silence counts from start until the first. */
  readonly detections: AllSourcesSilence;
  private upstream: EpisodeWatch<UpstreamOutage> | undefined;

  constructor(private readonly options: TelemetryWatchOptions) {
    this.watch = new SilenceWatch({ limitMs: options.silenceLimitMs, logger: options.logger });
    // Inference publishes a message for every frame it processes, boxes or none: an empty view is no silence, and
    // CAPTURE_FPS=1 is a message a second (a slower camera is judged by its own pace, AllSourcesSilence). When every
    // camera is out, telemetry cannot tell, from where it sits, a dead camera from a stopped inference or a wrong
    // DETECTIONS_CONNECT, and in every case nothing reaches upstream: it says so, and the module up the chain that is
    // degraded (capture's camera down, inference's stuck detection) says why. A video file played to its end, its
    // capture healthy and done, is silent too: TELEMETRY_SILENCE_MS=0 where silence is by design.
    this.detections = this.watch.silence({ what: 'detections', setting: 'detectionsConnect', endpoint: options.detectionsConnect, cause: NO_DETECTIONS_CAUSE });
  }

  /** edgeHub away past `graceMs` (TELEMETRY_UPSTREAM_GRACE_MS): on /health and logged once as it begins and once as it ends. */
  watchUpstream(stats: () => OutboundQueueStats, link: Pick<EdgeModule, 'connected' | 'disconnectedForMs'>, graceMs: number): void {
    const { logger } = this.options;
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
          logger.warn(
            { downSeconds: Math.round(downForMs / 1000), queued, dropped },
            `edgeHub away for ${Math.round(downForMs / 1000)} s: upstream messages wait in the queue (${queued} queued, ${dropped} dropped so far)`,
          );
        },
        ended: ({ downForMs }) => {
          const dropped = stats().dropped - droppedBefore;
          logger.info({ downSeconds: Math.round(downForMs / 1000), dropped }, `edgeHub back after about ${Math.round(downForMs / 1000)} s (${dropped} upstream messages dropped meanwhile)`);
        },
      },
    );
    this.watch.alsoCheck(this.upstream);
  }

  health(): TelemetryHealth {
    this.watch.check();
    return troublesHealth<TelemetryTroubles>({ silentForMs: this.detections.silentForMs, upstream: this.upstream?.current });
  }

  close(): void {
    this.watch.close();
  }
}
