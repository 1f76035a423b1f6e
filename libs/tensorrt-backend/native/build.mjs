// Builds the TensorRT binding with node-gyp: `npx nx run tensorrt-backend:build-native` or `node build.mjs`.
// Uses the headers of the running Node.js when they are installed beside it (Debian/NodeSource packages, the
// official images), else the system's, so the build needs no download; with neither, node-gyp fetches them.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const prefix = resolve(process.execPath, '../..');

/**
 * node-gyp as npm carries it: a workspace dependency, else the npm beside the running Node.js, else the npm on PATH
 * (a Node.js from the npm registry's `node` package comes without npm of its own).
 */
function nodeGypScript() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmDirs = [join(prefix, 'lib/node_modules/npm')];
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      const npm = join(dir, 'npm');
      if (existsSync(npm)) npmDirs.push(resolve(realpathSync(npm), '../..'));
    }
    const bundled = npmDirs.map((dir) => join(dir, 'node_modules/node-gyp/bin/node-gyp.js')).find((script) => existsSync(script));
    if (bundled) return bundled;
    throw new Error('node-gyp not found: install it (npm i -g node-gyp) or use the npm that comes with Node.js');
  }
}

// Node-API is ABI-stable: any Node.js's headers build an addon that it and every later Node.js load, so a runtime
// that came without them (the npm registry's `node` package) borrows the system's rather than download them.
const headersPrefix = [prefix, '/usr', '/usr/local'].find((dir) => existsSync(join(dir, 'include/node/node_api.h')));
const nodedir = headersPrefix ? [`--nodedir=${headersPrefix}`] : [];
const args = process.argv.slice(2);
const result = spawnSync(process.execPath, [nodeGypScript(), ...(args.length > 0 ? args : ['rebuild']), ...nodedir], { cwd: here, stdio: 'inherit' });
process.exit(result.status ?? 1);
