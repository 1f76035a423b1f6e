export * from './lib/backend-selection';
export * from './lib/text-detector';
export * from './lib/load-text-detector';
