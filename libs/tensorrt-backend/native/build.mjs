// Builds the TensorRT binding with node-gyp: `npx nx run tensorrt-backend:build-native` or `node build.mjs`.
// Uses the headers of the running Node.js when they are installed beside it (Debian/NodeSource packages, the
// official images), so the build needs no download; otherwise node-gyp fetches them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const prefix = resolve(process.execPath, '../..');

function nodeGypScript() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const bundled = join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
    if (existsSync(bundled)) return bundled;
    throw new Error('node-gyp not found: install it (npm i -g node-gyp) or use the npm that comes with Node.js');
  }
}

const nodedir = existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
const args = process.argv.slice(2);
const result = spawnSync(process.execPath, [nodeGypScript(), ...(args.length > 0 ? args : ['rebuild']), ...nodedir], { cwd: here, stdio: 'inherit' });
process.exit(result.status ?? 1);
