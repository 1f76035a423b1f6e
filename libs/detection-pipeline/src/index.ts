export * from './lib/backend-selection';
export * from './lib/text-detector';
export * from './lib/in-order-detections';
export * from './lib/load-text-detector';
export * from './lib/text-recognizer';
export * from './lib/video-text-reader';
export * from './lib/source-scheduler';
export * from './lib/source-feed';
