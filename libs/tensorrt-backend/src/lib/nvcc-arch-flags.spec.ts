import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNvcc, NATIVE_DIR } from '../testing/machine';

/** What native/nvcc-arch-flags.js prints for binding.gyp, as a list of flags. */
function archFlags(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const run = spawnSync(process.execPath, ['nvcc-arch-flags.js', ...args], { cwd: NATIVE_DIR, env: { ...process.env, NVCC_ARCH_FLAGS: '', ...env }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr.split('\n').find((line) => line.startsWith('Error:')) ?? run.stderr);
  return run.stdout.trim().split('\n');
}

const gencode = (sm: number, ptx = false) => `-gencode=arch=compute_${sm},code=${ptx ? `[sm_${sm},compute_${sm}]` : `sm_${sm}`}`;

describe("nvcc's architecture flags", () => {
  it('covers Xavier and Orin on JetPack 5 (CUDA 11.4) and 6 (CUDA 12.2), and only Orin on CUDA 13, which dropped 7.2', () => {
    expect(archFlags(['--cuda', '11.4', '--arch', 'arm64'])).toEqual([gencode(72), gencode(87, true)]);
    expect(archFlags(['--cuda', '12.2', '--arch', 'arm64'])).toEqual([gencode(72), gencode(87, true)]);
    expect(archFlags(['--cuda', '13.0', '--arch', 'arm64'])).toEqual([gencode(87, true)]);
  });

  it('covers Turing to Hopper on x86-64 with PTX of the newest, as far as the toolkit reaches', () => {
    expect(archFlags(['--cuda', '12.6', '--arch', 'x64'])).toEqual([gencode(75), gencode(80), gencode(86), gencode(89), gencode(90, true)]);
    expect(archFlags(['--cuda', '13.0', '--arch', 'x64'])).toEqual([gencode(75), gencode(80), gencode(86), gencode(89), gencode(90, true)]);
    expect(archFlags(['--cuda', '11.4', '--arch', 'x64'])).toEqual([gencode(75), gencode(80), gencode(86, true)]);
  });

  it('takes NVCC_ARCH_FLAGS as they are, and says what to set when it cannot choose', () => {
    expect(archFlags(['--cuda', '13.0'], { NVCC_ARCH_FLAGS: ' -arch=native ' })).toEqual(['-arch=native']);
    expect(() => archFlags(['--cuda', '13.0', '--arch', 'ppc64'])).toThrow('no default GPU architectures for ppc64; set NVCC_ARCH_FLAGS');
    expect(() => archFlags(['--cuda', '9.2', '--arch', 'arm64'])).toThrow('CUDA 9.2 compiles for none of sm_72, sm_87; set NVCC_ARCH_FLAGS');
    expect(() => archFlags(['/nonexistent/bin/nvcc'])).toThrow(/cannot run \/nonexistent\/bin\/nvcc to read the CUDA version .* set CUDA_HOME, or NVCC_ARCH_FLAGS/);
  });

  const nvcc = findNvcc();
  (nvcc ? it : it.skip)(`chooses flags the installed nvcc accepts, for arm64 and x86-64${nvcc ? '' : ' (needs nvcc: absent on this machine)'}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-arch-'));
    try {
      writeFileSync(join(dir, 'kernel.cu'), '__global__ void kernel(int* value) { *value = 1; }\n');
      for (const arch of ['arm64', 'x64']) {
        const flags = archFlags([nvcc as string, '--arch', arch]);
        const compiled = spawnSync(nvcc as string, ['-c', 'kernel.cu', '-o', `kernel-${arch}.o`, ...flags], { cwd: dir, encoding: 'utf8' });
        expect({ arch, status: compiled.status, output: `${compiled.stdout}${compiled.stderr}`.trim() }).toEqual({ arch, status: 0, output: '' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
