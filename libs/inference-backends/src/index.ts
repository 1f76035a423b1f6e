export * from './lib/inference-backend';
