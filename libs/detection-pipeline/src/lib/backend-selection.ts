import { OnnxRuntimeBackend, type InferenceBackend } from '@iev/inference-backends';

export type BackendChoice = 'onnxruntime' | 'tensorrt' | 'auto';

export interface BackendSelection {
  /** INFERENCE_BACKEND; when unset, the original sample's USE_TENSOR_RT decides. */
  backend?: BackendChoice;
  useTensorRt: boolean;
  modelPath: string;
  threads: number;
}

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/**
 * Picks the inference backend the way the original sample did (USE_TENSOR_RT=True → TensorRT), with an
 * explicit INFERENCE_BACKEND taking precedence. Only `auto` may fall back to the CPU.
 */
export function selectBackend(selection: BackendSelection): InferenceBackend {
  const choice: BackendChoice = selection.backend ?? (selection.useTensorRt ? 'tensorrt' : 'onnxruntime');
  const cpu = () => new OnnxRuntimeBackend({ modelPath: selection.modelPath, intraOpThreads: selection.threads });
  switch (choice) {
    case 'onnxruntime':
    case 'auto':
      // No TensorRT binding is built yet, so `auto` resolves to the CPU backend.
      return cpu();
    case 'tensorrt':
      throw new BackendUnavailableError(
        'TensorRT was requested (USE_TENSOR_RT=True or INFERENCE_BACKEND=tensorrt) but this build has no TensorRT binding. ' +
          'Set USE_TENSOR_RT=False (or INFERENCE_BACKEND=onnxruntime) to run on the CPU, or INFERENCE_BACKEND=auto to fall back.',
      );
  }
}
