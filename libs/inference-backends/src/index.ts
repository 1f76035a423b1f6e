export * from './lib/inference-backend';
export * from './lib/model-file';
export * from './lib/onnxruntime-backend';
export * from './lib/backend-pool';
export * from './lib/onnx-graph/fold-elementwise';
export * from './lib/model-input';
export { makeNode, OnnxGraph, withFixedInputDims } from './lib/onnx-graph/onnx-model';
