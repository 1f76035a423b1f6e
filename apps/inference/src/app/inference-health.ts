import type { InferenceBackend } from '@iev/inference-backends';

export interface InferenceHealth {
  healthy: boolean;
  /** 'degraded' while detection streams or cameras decoded here are down; absent while all are up. */
  status?: 'degraded';
  streamsDown?: number;
  /** Cameras of CAPTURE_SOURCES not delivering frames: not yet, or retrying. */
  sourcesDown?: string[];
}

/**
 * Inference's part of /health: degraded, and so unhealthy, while any detection stream is down (its worker restarting
 * after a crash) or any camera it decodes itself is (`sourcesDown`: not streaming yet, or retrying, as a capture
 * module is unhealthy for its one), though the rest keep detecting.
 */
export function inferenceHealth(backend: Pick<InferenceBackend, 'streamsDown'>, sourcesDown: readonly string[] = []): InferenceHealth {
  const streamsDown = backend.streamsDown ?? 0;
  if (streamsDown === 0 && sourcesDown.length === 0) return { healthy: true };
  return { healthy: false, status: 'degraded', ...(streamsDown > 0 && { streamsDown }), ...(sourcesDown.length > 0 && { sourcesDown: [...sourcesDown] }) };
}
