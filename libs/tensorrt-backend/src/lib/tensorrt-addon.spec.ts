import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCompiler } from '../testing/machine';
import {
  ADDON_BUILD_PATH,
  addonCandidates,
  BUILD_COMMAND,
  explainDeviceError,
  explainLoadError,
  openTensorRt,
  probeTensorRt,
  TensorRtUnavailableError,
} from './tensorrt-addon';

describe('finding the binding', () => {
  it('looks beside the code, then in the workspace build output of every folder above it', () => {
    expect(addonCandidates(undefined, '/app')).toEqual(['/app/tensorrt_addon.node', `/app/${ADDON_BUILD_PATH}`, `/${ADDON_BUILD_PATH}`]);
  });

  it('looks only at TENSORRT_ADDON_PATH when it is set', () => {
    expect(addonCandidates('/opt/iev/tensorrt_addon.node', '/app')).toEqual(['/opt/iev/tensorrt_addon.node']);
  });

  it('says the binding is not built, where it looked and how to build it', () => {
    const probe = probeTensorRt('/nonexistent/tensorrt_addon.node');
    expect(probe.available).toBe(false);
    if (probe.available) return;
    expect(probe.error.missing).toBe('binding');
    expect(probe.error.message).toContain('/nonexistent/tensorrt_addon.node');
    expect(probe.error.message).toContain(BUILD_COMMAND);
    expect(() => openTensorRt('/nonexistent/tensorrt_addon.node')).toThrow(TensorRtUnavailableError);
  });
});

const needsCompiler = hasCompiler('cc') ? describe : describe.skip;

/**
 * Real loader failures: a shared object linked against a library that is then taken away fails to load exactly
 * as a built binding does on a machine without TensorRT or the CUDA runtime.
 */
needsCompiler(`a binding whose libraries are missing${hasCompiler('cc') ? '' : ' (needs a C compiler: none on this machine)'}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-addon-'));
    writeFileSync(join(dir, 'library.c'), 'int library_symbol(void) { return 1; }\n');
    writeFileSync(join(dir, 'binding.c'), 'extern int library_symbol(void);\nint binding_symbol(void) { return library_symbol(); }\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Builds `<name>.node` needing `library`, removes the library, and returns the loader's error. */
  function loadWithout(library: string, name: string): Error {
    const cc = (...args: string[]) => expect(spawnSync('cc', args, { cwd: dir, encoding: 'utf8' }).status).toBe(0);
    cc('-shared', '-fPIC', `-Wl,-soname,${library}`, '-o', library, 'library.c');
    cc('-shared', '-fPIC', '-o', `${name}.node`, 'binding.c', `-L${dir}`, `-l:${library}`);
    rmSync(join(dir, library));
    const path = join(dir, `${name}.node`);
    try {
      process.dlopen({ exports: {} }, path);
    } catch (error) {
      return error as Error;
    }
    throw new Error(`${path} loaded without ${library}`);
  }

  it('names TensorRT and LD_LIBRARY_PATH when libnvinfer is missing', () => {
    const error = explainLoadError('tensorrt_addon.node', loadWithout('libnvinfer.so.10', 'needs-nvinfer'));
    expect(error.missing).toBe('tensorrt-library');
    expect(error.message).toMatch(/TensorRT's library libnvinfer\.so\.10 is not installed[\s\S]*LD_LIBRARY_PATH/);
  });

  it('names the CUDA runtime when libcudart is missing', () => {
    const error = explainLoadError('tensorrt_addon.node', loadWithout('libcudart.so.12', 'needs-cudart'));
    expect(error.missing).toBe('cuda-runtime');
    expect(error.message).toContain('the CUDA runtime libcudart.so.12 is not installed');
  });

  it('says how to rebuild a binding that fails to load for another reason', () => {
    const path = join(dir, 'not-a-binding.node');
    writeFileSync(path, 'not an ELF file');
    const error = openTensorRtError(path);
    expect(error.missing).toBe('binding');
    expect(error.message).toContain(`cannot be loaded`);
    expect(error.message).toContain(BUILD_COMMAND);
  });
});

function openTensorRtError(path: string): TensorRtUnavailableError {
  const probe = probeTensorRt(path);
  if (probe.available) throw new Error(`${path} loaded`);
  return probe.error;
}

describe('CUDA device errors from the binding', () => {
  // The binding reports cudaGetDeviceCount's error name as the error's code (native/src/addon.cc).
  const deviceError = (code: string) => Object.assign(new Error(`cudaGetDeviceCount failed: ${code} (...)`), { code });

  it('says no GPU is usable, and what to check, for cudaErrorNoDevice', () => {
    const error = explainDeviceError(deviceError('cudaErrorNoDevice'));
    expect(error.missing).toBe('gpu');
    expect(error.message).toMatch(/no CUDA GPU is usable \(cudaErrorNoDevice\)[\s\S]*--gpus all/);
  });

  it('points at the driver for cudaErrorInsufficientDriver', () => {
    const error = explainDeviceError(deviceError('cudaErrorInsufficientDriver'));
    expect(error.missing).toBe('driver');
    expect(error.message).toContain('update the driver');
  });
});
