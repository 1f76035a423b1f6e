// Drops from an installed node_modules what a module image never runs:
//  - native binaries for other platforms: onnxruntime-node and zeromq ship every platform's in their npm package
//    (onnxruntime-node ~250 MB of Windows, macOS and the other Linux architecture; zeromq ~20 MB);
//  - files only tools or people read: type declarations, source maps, Markdown (licences stay), and the test
//    coverage reports some packages publish (fluent-ffmpeg: 12 MB).
// It keeps the binaries of the platform it runs on, so it runs where `npm ci` installed the addons: the image's
// production-dependencies stage, on the target architecture. It fails, naming the folder, when a package's binaries
// for this platform are missing, so a changed package layout stops the build instead of shipping a broken image.
//
//   node prune-node-modules.mjs <node_modules>
import { existsSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Per package, the folders that hold one `<platform>/<arch>/` tree per platform the package was built for. */
const NATIVE_BINARY_ROOTS = {
  // bin/napi-v6/linux/x64/onnxruntime_binding.node, loaded as bin/napi-v6/${process.platform}/${process.arch}.
  'onnxruntime-node': (folder) => readdirSync(join(folder, 'bin')).map((napi) => join('bin', napi)),
  // build/linux/x64/node/glibc-127-Release/addon.node, picked by cmake-ts from build/manifest.json.
  zeromq: () => ['build'],
};

const TOOLING_ONLY = /(\.d\.[cm]?ts|\.map|\.md)$/;
const LICENCE = /^(licen[cs]e|notice|copying)/i;

function sizeOf(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, entry) => total + sizeOf(join(path, entry)), 0);
}

/** Removes `path`, returning the bytes it held. */
function remove(path) {
  const bytes = sizeOf(path);
  rmSync(path, { recursive: true, force: true });
  return bytes;
}

/** Keeps only `<root>/<platform>/<arch>` of each native binary root of the package in `folder`. */
function pruneOtherPlatforms(nodeModules, packageName, binaryRoots, platform, arch) {
  const folder = join(nodeModules, packageName);
  let bytes = 0;
  for (const root of binaryRoots(folder)) {
    const kept = join(folder, root, platform, arch);
    if (!existsSync(kept)) {
      throw new Error(`${packageName} has no native binaries for ${platform}/${arch}: ${relative(nodeModules, kept)} is missing`);
    }
    for (const entry of readdirSync(join(folder, root))) {
      const path = join(folder, root, entry);
      if (!statSync(path).isDirectory()) continue; // zeromq's manifest.json, read by its loader
      if (entry !== platform) bytes += remove(path);
      else for (const other of readdirSync(path).filter((name) => name !== arch)) bytes += remove(join(path, other));
    }
  }
  return bytes;
}

function pruneToolingFiles(folder) {
  let bytes = 0;
  const isPackage = existsSync(join(folder, 'package.json'));
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory() && isPackage && entry.name === 'coverage') bytes += remove(path);
    else if (entry.isDirectory()) bytes += pruneToolingFiles(path);
    else if (TOOLING_ONLY.test(entry.name) && !LICENCE.test(entry.name)) bytes += remove(path);
  }
  return bytes;
}

function main([nodeModules]) {
  if (!nodeModules || !existsSync(nodeModules)) throw new Error(`usage: prune-node-modules.mjs <node_modules> (got ${nodeModules ?? 'nothing'})`);
  const { platform, arch } = process;
  let nativeBytes = 0;
  for (const [packageName, binaryRoots] of Object.entries(NATIVE_BINARY_ROOTS)) {
    if (existsSync(join(nodeModules, packageName))) nativeBytes += pruneOtherPlatforms(nodeModules, packageName, binaryRoots, platform, arch);
  }
  const toolingBytes = pruneToolingFiles(nodeModules);
  const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`prune-node-modules: kept ${platform}/${arch}; removed ${megabytes(nativeBytes)} of other platforms' binaries, ${megabytes(toolingBytes)} of types, source maps, docs and coverage reports`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`prune-node-modules: ${error.message}`);
  process.exit(1);
}
