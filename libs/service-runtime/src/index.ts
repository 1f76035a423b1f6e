export * from './lib/env';
export * from './lib/logger';
export * from './lib/observability-server';
