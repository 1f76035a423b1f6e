export * from './lib/engine-build-progress';
export * from './lib/engine-cache';
export * from './lib/model-input';
export * from './lib/recognition-input';
export * from './lib/tensorrt-addon';
export * from './lib/tensorrt-backend';
export * from './lib/tensorrt-profile';
export * from './lib/tensorrt-settings';
