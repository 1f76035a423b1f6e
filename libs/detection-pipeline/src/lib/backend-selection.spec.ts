import { OnnxRuntimeBackend } from '@iev/inference-backends';
import { BackendUnavailableError, selectBackend } from './backend-selection';

const base = { modelPath: 'models/ch_pp_inf_dynamic.onnx', threads: 1 };

describe('selectBackend', () => {
  it('uses ONNX Runtime on the CPU by default, as the sample did with USE_TENSOR_RT=False', () => {
    expect(selectBackend({ ...base, useTensorRt: false })).toBeInstanceOf(OnnxRuntimeBackend);
  });

  it('refuses USE_TENSOR_RT=True without a TensorRT binding, saying how to run on the CPU', () => {
    expect(() => selectBackend({ ...base, useTensorRt: true })).toThrow(BackendUnavailableError);
    expect(() => selectBackend({ ...base, useTensorRt: true })).toThrow('USE_TENSOR_RT=False');
  });

  it('lets INFERENCE_BACKEND override USE_TENSOR_RT', () => {
    expect(selectBackend({ ...base, useTensorRt: true, backend: 'onnxruntime' })).toBeInstanceOf(OnnxRuntimeBackend);
    expect(() => selectBackend({ ...base, useTensorRt: false, backend: 'tensorrt' })).toThrow(BackendUnavailableError);
  });

  it('falls back to the CPU only for auto', () => {
    expect(selectBackend({ ...base, useTensorRt: false, backend: 'auto' })).toBeInstanceOf(OnnxRuntimeBackend);
  });
});
