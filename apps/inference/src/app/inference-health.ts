import type { InferenceBackend } from '@iev/inference-backends';

export interface DetectionHealth {
  healthy: boolean;
  /** 'degraded' while streams are down; absent while all are up. */
  status?: 'degraded';
  streamsDown?: number;
}

/**
 * The detection model's part of /health: degraded, and so unhealthy, while any of its streams is down (its worker
 * restarting after a crash), though the others keep detecting.
 */
export function detectionHealth(backend: Pick<InferenceBackend, 'streamsDown'>): DetectionHealth {
  const streamsDown = backend.streamsDown ?? 0;
  return streamsDown === 0 ? { healthy: true } : { healthy: false, status: 'degraded', streamsDown };
}
