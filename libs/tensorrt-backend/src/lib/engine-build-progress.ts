import type { BackendLog } from '@iev/inference-backends';
import type { BuildProgress } from './tensorrt-addon';

/** Step reports of one phase are logged at most this often: a Jetson build takes minutes and has thousands. */
const STEP_LOG_INTERVAL_MS = 10_000;

/**
 * Turns TensorRT's builder progress into log lines a person can follow: each phase of the top two levels as it
 * starts and finishes, and how far it has got at most every 10 s. Deeper phases (per layer, per tactic) would flood.
 */
export function engineBuildProgressLog(log: BackendLog, now: () => number = Date.now): (progress: BuildProgress) => void {
  const depths = new Map<string, number>();
  const lastLogged = new Map<string, number>();
  return ({ phase, parent, step, steps }) => {
    if (step === 0 && !depths.has(phase)) depths.set(phase, parent === undefined ? 0 : (depths.get(parent) ?? 0) + 1);
    const depth = depths.get(phase) ?? 0;
    if (depth > 1) return;
    const where = parent === undefined ? phase : `${parent} > ${phase}`;
    if (step === 0) {
      lastLogged.set(phase, now());
      log.info(`TensorRT engine build: ${where} started (${steps} steps)`);
    } else if (step >= steps) {
      depths.delete(phase);
      lastLogged.delete(phase);
      log.info(`TensorRT engine build: ${where} done`);
    } else if (now() - (lastLogged.get(phase) ?? 0) >= STEP_LOG_INTERVAL_MS) {
      lastLogged.set(phase, now());
      log.info(`TensorRT engine build: ${where} ${step}/${steps}`);
    }
  };
}
