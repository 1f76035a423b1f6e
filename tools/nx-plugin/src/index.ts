// The workspace's Nx plugin: inferred targets (createNodes) here; executors are listed in executors.json.
export { createNodes } from './plugins/docker-target';
