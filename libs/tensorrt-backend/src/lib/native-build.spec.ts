import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaIncludeDir, findNvcc, hasCompiler, NATIVE_DIR, nodeIncludeDir, WORKSPACE_ROOT } from '../testing/machine';
import { MINIMUM_TENSORRT_VERSION } from './tensorrt-addon';

const nvcc = findNvcc();
const nodeHeaders = nodeIncludeDir();
const cudaInclude = nvcc && cudaIncludeDir(nvcc);
const missing = [
  !hasCompiler('g++') && 'g++',
  !hasCompiler('make') && 'make',
  !nvcc && 'nvcc',
  !nodeHeaders && "Node.js's headers",
].filter(Boolean);
const needsToolchain = missing.length === 0 ? describe : describe.skip;

// What builds without TensorRT's headers (a clone without ../shared has none): trt_engine.cc, the only file that
// includes them, and the link are built by tensorrt-headers-build.spec.ts where the headers are.
needsToolchain(`the binding's build without TensorRT${missing.length ? ` (needs ${missing.join(', ')}: absent on this machine)` : ''}`, () => {
  it('compiles addon.cc against node-addon-api and the CUDA runtime headers', () => {
    const compiled = spawnSync(
      'g++',
      ['-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', `-I${nodeHeaders}`, `-I${join(WORKSPACE_ROOT, 'node_modules/node-addon-api')}`, `-I${cudaInclude}`, 'src/addon.cc'],
      { cwd: NATIVE_DIR, encoding: 'utf8' },
    );
    expect({ status: compiled.status, errors: compiled.stderr }).toEqual({ status: 0, errors: '' });
  }, 120_000);

  it("configures binding.gyp with node-gyp and builds addon.cc and, through the gyp rule for .cu files, preprocess.cu", () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-gyp-'));
    try {
      const native = join(dir, 'native');
      cpSync(NATIVE_DIR, native, { recursive: true, filter: (source) => !/[/\\](build|node_modules)$/.test(source) });
      // One architecture keeps it quick; the defaults are checked by the configure step all the same.
      const env = { ...process.env, NODE_PATH: join(WORKSPACE_ROOT, 'node_modules'), NVCC_ARCH_FLAGS: '-arch=sm_75' };
      const configured = spawnSync(process.execPath, ['build.mjs', 'configure'], { cwd: native, env, encoding: 'utf8' });
      expect({ status: configured.status, errors: configured.stderr.split('\n').filter((line) => /ERR!/.test(line)) }).toEqual({ status: 0, errors: [] });
      const objects = ['Release/obj.target/tensorrt_addon/geni/preprocess.o', 'Release/obj.target/tensorrt_addon/src/addon.o'];
      const built = spawnSync('make', ['-C', 'build', ...objects], { cwd: native, env, encoding: 'utf8' });
      expect({ status: built.status, errors: built.stderr }).toEqual({ status: 0, errors: '' });
      for (const object of objects) expect(existsSync(join(native, 'build', object))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

const needsGxx = hasCompiler('g++') ? describe : describe.skip;

needsGxx(`the minimum TensorRT version${hasCompiler('g++') ? '' : ' (needs g++: absent on this machine)'}`, () => {
  /** Compiles tensorrt_minimum.h against an NvInferVersion.h that says `version`. */
  function compileAgainst(version: string) {
    const dir = mkdtempSync(join(tmpdir(), 'iev-trt-version-'));
    try {
      const [major, minor] = version.split('.');
      writeFileSync(join(dir, 'NvInferVersion.h'), `#define NV_TENSORRT_MAJOR ${major}\n#define NV_TENSORRT_MINOR ${minor}\n`);
      return spawnSync('g++', ['-std=c++17', '-fsyntax-only', '-isystem', dir, '-Isrc', '-x', 'c++', '-'], {
        cwd: NATIVE_DIR,
        input: '#include "tensorrt_minimum.h"\n',
        encoding: 'utf8',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it(`stops a build against TensorRT older than ${MINIMUM_TENSORRT_VERSION} with one #error naming it, as the loader's message does`, () => {
    const [major, minor] = MINIMUM_TENSORRT_VERSION.split('.').map(Number);
    const older = compileAgainst(`${major}.${minor - 1}`);
    expect(older.status).not.toBe(0);
    expect(older.stderr.match(/error:.*/g)).toEqual([expect.stringContaining(`needs TensorRT ${MINIMUM_TENSORRT_VERSION} or later`)]);
    expect(compileAgainst(`${major - 1}.9`).stderr.match(/error:.*/g)).toHaveLength(1);
    expect(compileAgainst(MINIMUM_TENSORRT_VERSION)).toMatchObject({ status: 0, stderr: '' });
  });
});
