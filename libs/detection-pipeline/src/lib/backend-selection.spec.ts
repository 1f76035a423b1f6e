import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendPool, OnnxRuntimeBackend, readModelFile } from '@iev/inference-backends';
import { probeTensorRt, REC_MAX_WIDTH, TensorRtBackend } from '@iev/tensorrt-backend';
import { recordingLog } from '@iev/testing';
import { BackendUnavailableError, cpuParallelism, selectBackend, selectRecognitionBackend } from './backend-selection';

const base = { modelPath: 'models/ch_pp_inf_dynamic.onnx', threads: 1, streams: 1 };
/** A binding path that does not exist: TensorRT is then unavailable on any machine, for the reason "not built". */
const noBinding = { ...base, tensorRtAddonPath: '/nonexistent/tensorrt_addon.node' };

describe('selectBackend', () => {
  it('uses ONNX Runtime on the CPU by default, as the sample did with USE_TENSOR_RT=False', () => {
    expect(selectBackend({ ...base, useTensorRt: false })).toBeInstanceOf(OnnxRuntimeBackend);
  });

  it('refuses USE_TENSOR_RT=True without a usable TensorRT, saying what is missing, how to fix it and how to run on the CPU', () => {
    expect(() => selectBackend({ ...noBinding, useTensorRt: true })).toThrow(BackendUnavailableError);
    expect(() => selectBackend({ ...noBinding, useTensorRt: true })).toThrow(
      /^TensorRT was requested \(USE_TENSOR_RT=True\) but the TensorRT binding is not built \(no tensorrt_addon\.node at \/nonexistent\/tensorrt_addon\.node\)\. .*npx nx run tensorrt-backend:build-native.* set USE_TENSOR_RT=False/,
    );
  });

  it('lets INFERENCE_BACKEND override USE_TENSOR_RT', () => {
    expect(selectBackend({ ...noBinding, useTensorRt: true, backend: 'onnxruntime' })).toBeInstanceOf(OnnxRuntimeBackend);
    expect(() => selectBackend({ ...noBinding, useTensorRt: false, backend: 'tensorrt' })).toThrow(/^TensorRT was requested \(INFERENCE_BACKEND=tensorrt\)/);
  });

  it('falls back to the CPU only for auto, logging why', () => {
    const log = recordingLog();
    expect(selectBackend({ ...noBinding, useTensorRt: false, backend: 'auto', log })).toBeInstanceOf(OnnxRuntimeBackend);
    expect(log.lines).toEqual([
      expect.stringMatching(/^warn: INFERENCE_BACKEND=auto: running the detection model with ONNX Runtime on the CPU because TensorRT is not usable here: the TensorRT binding is not built/),
      'info: ONNX Runtime on the CPU: 1 stream of 1 thread',
    ]);
  });

  it('says its CPU streams and threads in words, plurals right', () => {
    const said = (streams: number, threads: number) => {
      const log = recordingLog();
      selectBackend({ ...base, streams, threads, useTensorRt: false, log });
      return log.lines;
    };
    expect(said(1, 0)).toEqual(['info: ONNX Runtime on the CPU: 1 stream, one thread per core']);
    expect(said(1, 4)).toEqual(['info: ONNX Runtime on the CPU: 1 stream of 4 threads']);
    expect(said(2, 1)).toEqual(['info: ONNX Runtime on the CPU: 2 streams of 1 thread each']);
  });

  it('runs INFERENCE_STREAMS copies of the CPU model side by side', () => {
    const backend = selectBackend({ ...base, streams: 3, useTensorRt: false });
    expect(backend).toBeInstanceOf(BackendPool);
    expect(backend.concurrency).toBe(3);
  });

  it('loads every stream from the file read once for its input check, without reading the path again', async () => {
    const file = await readModelFile(join(__dirname, '../../../..', base.modelPath));
    const gone = { ...file, path: join(tmpdir(), 'iev-no-such-model.onnx') };

    const backend = selectBackend({ ...base, modelPath: gone.path, modelFile: gone, streams: 2, useTensorRt: false });
    try {
      await backend.load();
      expect(backend.modelSha256).toBe(file.sha256);
    } finally {
      await backend.dispose();
    }
    await expect(selectBackend({ ...base, modelPath: gone.path, useTensorRt: false }).load()).rejects.toThrow(/no such file/);
  });

  const tensorRt = probeTensorRt();
  // On this machine's own binding: TensorRT when it is usable here, otherwise the same refusal as above.
  it(`gives ${tensorRt.available ? 'the TensorRT backend' : 'the reason TensorRT is not usable'} on this machine for INFERENCE_BACKEND=tensorrt`, () => {
    if (tensorRt.available) expect(selectBackend({ ...base, useTensorRt: false, backend: 'tensorrt' })).toBeInstanceOf(TensorRtBackend);
    else expect(() => selectBackend({ ...base, useTensorRt: false, backend: 'tensorrt' })).toThrow(tensorRt.error.message);
  });
});

describe('selectRecognitionBackend: the detector\'s rules for the recognition model', () => {
  const recognition = { modelPath: 'models/ch_PP-OCRv4_rec_infer.onnx', threads: 1 };
  const noRecognitionBinding = { ...recognition, tensorRtAddonPath: '/nonexistent/tensorrt_addon.node' };

  it('uses one ONNX Runtime stream on the CPU by default, with no limit on the batch width', () => {
    const chosen = selectRecognitionBackend({ ...recognition, useTensorRt: false });
    expect(chosen.backend).toBeInstanceOf(OnnxRuntimeBackend);
    expect(chosen.maxWidth).toBeUndefined();
  });

  it('refuses USE_TENSOR_RT=True and INFERENCE_BACKEND=tensorrt without a usable TensorRT, as for detection', () => {
    expect(() => selectRecognitionBackend({ ...noRecognitionBinding, useTensorRt: true })).toThrow(BackendUnavailableError);
    expect(() => selectRecognitionBackend({ ...noRecognitionBinding, useTensorRt: true })).toThrow(/^TensorRT was requested \(USE_TENSOR_RT=True\) but the TensorRT binding is not built/);
    expect(() => selectRecognitionBackend({ ...noRecognitionBinding, useTensorRt: false, backend: 'tensorrt' })).toThrow(/^TensorRT was requested \(INFERENCE_BACKEND=tensorrt\)/);
    expect(selectRecognitionBackend({ ...noRecognitionBinding, useTensorRt: true, backend: 'onnxruntime' }).backend).toBeInstanceOf(OnnxRuntimeBackend);
  });

  it('falls back to the CPU only for auto, logging why and for which model', () => {
    const log = recordingLog();
    expect(selectRecognitionBackend({ ...noRecognitionBinding, useTensorRt: false, backend: 'auto', log }).backend).toBeInstanceOf(OnnxRuntimeBackend);
    expect(log.lines).toEqual([expect.stringMatching(/^warn: INFERENCE_BACKEND=auto: running the recognition model with ONNX Runtime on the CPU because TensorRT is not usable here: the TensorRT binding is not built/)]);
  });

  const tensorRt = probeTensorRt();
  it(`gives ${tensorRt.available ? 'a TensorRT backend limited to the profile\'s width' : 'the reason TensorRT is not usable'} on this machine for INFERENCE_BACKEND=tensorrt`, () => {
    if (tensorRt.available) {
      const chosen = selectRecognitionBackend({ ...recognition, useTensorRt: false, backend: 'tensorrt' });
      expect(chosen.backend).toBeInstanceOf(TensorRtBackend);
      expect(chosen.maxWidth).toBe(REC_MAX_WIDTH);
    } else {
      expect(() => selectRecognitionBackend({ ...recognition, useTensorRt: false, backend: 'tensorrt' })).toThrow(tensorRt.error.message);
    }
  });
});

describe('cpuParallelism (0 = auto)', () => {
  it('runs two single-threaded streams on 2 cores, and shares out larger CPUs between two streams', () => {
    expect(cpuParallelism(0, 0, 2)).toEqual({ streams: 2, threads: 1 });
    expect(cpuParallelism(0, 0, 8)).toEqual({ streams: 2, threads: 4 });
    expect(cpuParallelism(0, 0, 6)).toEqual({ streams: 2, threads: 3 });
  });

  it('keeps one stream with ONNX Runtime\'s own thread default on a single core or when asked', () => {
    expect(cpuParallelism(0, 0, 1, 1)).toEqual({ streams: 1, threads: 0 });
    expect(cpuParallelism(1, 0, 8, 8)).toEqual({ streams: 1, threads: 0 });
  });

  it('gives one stream confined to fewer cores than the machine has their threads, not ONNX Runtime\'s default for every core', () => {
    expect(cpuParallelism(0, 0, 1, 2)).toEqual({ streams: 1, threads: 1 });
    expect(cpuParallelism(1, 0, 4, 16)).toEqual({ streams: 1, threads: 4 });
    expect(cpuParallelism(1, 3, 4, 16)).toEqual({ streams: 1, threads: 3 });
  });

  it('takes explicit values as given, and never gives a stream less than one thread', () => {
    expect(cpuParallelism(3, 2, 2)).toEqual({ streams: 3, threads: 2 });
    expect(cpuParallelism(4, 0, 2)).toEqual({ streams: 4, threads: 1 });
  });
});
