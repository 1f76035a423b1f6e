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
  /** No detections from any source for TELEMETRY_SILENCE_MS, or three of each one's own intervals (AllSourcesSilence, in TelemetryMetrics.troubles()). */
  silentForMs?: number;
  upstream?: UpstreamOutage;
}

export interface TelemetryHealth extends TelemetryTroubles {
  healthy: boolean;
  /** 'degraded' while detections are silent or edgeHub is away; absent while all is well. */
  status?: 'degraded';
}

/**
 * Telemetry's part of /health: degraded, and so unhealthy, while no detections arrive (`silentForMs`: inference
 * stopped or unreachable, DETECTIONS_CONNECT wrong, or no camera delivering) or edgeHub has been away past its grace
 * (`upstream`: messages queue, the oldest dropped once the queue is full). Nothing restarts for it: /live stays 200.
 */
export function telemetryHealth({ silentForMs, upstream }: TelemetryTroubles): TelemetryHealth {
  if (silentForMs === undefined && upstream === undefined) return { healthy: true };
  return { healthy: false, status: 'degraded', ...(silentForMs !== undefined && { silentForMs }), ...(upstream && { upstream }) };
}
