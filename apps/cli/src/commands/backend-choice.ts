import { BACKEND_CHOICES, backendChoiceSpec, type BackendChoice } from '@iev/detection-pipeline';
import { readConfig, type ConfigOf } from '@iev/service-runtime';

/**
 * The backend detect and eval ask for: --backend, else the inference module's own variables (INFERENCE_BACKEND, the
 * original sample's USE_TENSOR_RT=True), so a shell set up for the module runs the CLI on the same backend.
 */
export function backendChoiceFor(flag: string | undefined, environment: NodeJS.ProcessEnv): ConfigOf<typeof backendChoiceSpec> {
  if (flag !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(flag)) {
    throw new Error(`--backend must be ${BACKEND_CHOICES.join(', ')} (got ${flag})`);
  }
  const fromEnvironment = readConfig(backendChoiceSpec, environment);
  return flag ? { ...fromEnvironment, backend: flag as BackendChoice } : fromEnvironment;
}
