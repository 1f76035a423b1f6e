import { BackendUnavailableError, selectBackend } from '@iev/detection-pipeline';
import { backendChoiceFor } from './backend-choice';

describe("detect and eval's backend", () => {
  it('is ONNX Runtime on the CPU unless asked otherwise', () => {
    expect(backendChoiceFor(undefined, {})).toEqual({ backend: undefined, useTensorRt: false });
  });

  it("honours the original sample's USE_TENSOR_RT=True and INFERENCE_BACKEND, as the inference module does", () => {
    expect(backendChoiceFor(undefined, { USE_TENSOR_RT: 'True' })).toEqual({ backend: undefined, useTensorRt: true });
    expect(backendChoiceFor(undefined, { INFERENCE_BACKEND: 'auto' })).toEqual({ backend: 'auto', useTensorRt: false });
  });

  it('lets --backend win over the environment', () => {
    expect(backendChoiceFor('onnxruntime', { USE_TENSOR_RT: 'True', INFERENCE_BACKEND: 'tensorrt' })).toEqual({ backend: 'onnxruntime', useTensorRt: true });
  });

  it('refuses USE_TENSOR_RT=True loudly where TensorRT cannot run, rather than running on the CPU', () => {
    const choice = backendChoiceFor(undefined, { USE_TENSOR_RT: 'True' });
    const select = () => selectBackend({ ...choice, modelPath: 'models/ch_pp_inf_dynamic.onnx', threads: 1, tensorRtAddonPath: '/nonexistent/tensorrt_addon.node' });
    expect(select).toThrow(BackendUnavailableError);
    expect(select).toThrow(/^TensorRT was requested \(USE_TENSOR_RT=True\)/);
  });

  it('names a bad flag or variable', () => {
    expect(() => backendChoiceFor('gpu', {})).toThrow('--backend must be onnxruntime, tensorrt, auto (got gpu)');
    expect(() => backendChoiceFor(undefined, { USE_TENSOR_RT: 'maybe', INFERENCE_BACKEND: 'gpu' })).toThrow(/INFERENCE_BACKEND[\s\S]*USE_TENSOR_RT/);
  });
});
