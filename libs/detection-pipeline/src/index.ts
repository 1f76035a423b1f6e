export * from './lib/backend-selection';
export * from './lib/text-detector';
