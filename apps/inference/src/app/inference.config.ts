import { env, optional, readConfig, type ConfigOf } from '@iev/service-runtime';

export const inferenceConfigSpec = {
  framesConnect: env.endpoint('FRAMES_CONNECT', 'tcp://127.0.0.1:5555'),
  detectionsBind: env.endpoint('DETECTIONS_BIND', 'tcp://*:5556'),
  modelPath: env.string('MODEL_PATH', 'models/ch_pp_inf_dynamic.onnx'),
  preset: env.oneOf('DETECTION_PRESET', ['seed', 'default'] as const, 'seed'),
  /** Unset: the original sample's USE_TENSOR_RT decides. */
  backend: optional(env.oneOf('INFERENCE_BACKEND', ['onnxruntime', 'tensorrt', 'auto'] as const)),
  useTensorRt: env.boolean('USE_TENSOR_RT', false),
  threads: env.integer('INFERENCE_THREADS', { min: 0, max: 256 }, 0),
  metricsPort: env.integer('METRICS_PORT', { min: 0, max: 65535 }, 9102),
};

export type InferenceConfig = ConfigOf<typeof inferenceConfigSpec>;

export const readInferenceConfig = (source: NodeJS.ProcessEnv = process.env): InferenceConfig => readConfig(inferenceConfigSpec, source);
