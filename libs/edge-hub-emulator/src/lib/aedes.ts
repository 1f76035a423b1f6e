import type { Aedes, AedesOptions } from 'aedes';

/**
 * aedes 1.x is ESM-only. Node (>= 20.19) can require() it, but Jest's module registry cannot (it parses the file
 * as CommonJS), so it is loaded with Node's own require, which also works in a webpack bundle (aedes is external).
 */
export function createAedesBroker(options: AedesOptions): Promise<Aedes> {
  const nodeModule = process.getBuiltinModule?.('node:module');
  if (!nodeModule) throw new Error(`the edge hub emulator needs Node.js >= 20.19 (aedes is ESM-only); this is ${process.version}`);
  const { Aedes: AedesClass } = nodeModule.createRequire(__filename)('aedes') as typeof import('aedes');
  return AedesClass.createBroker(options);
}
