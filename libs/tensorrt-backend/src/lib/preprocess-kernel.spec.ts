import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, Preprocessor, type DetectionPreset, type ImageView } from '@iev/text-detection';
import { findNvcc, hasCudaGpu, NATIVE_DIR } from '../testing/machine';
import { devicePreprocessPlan } from './tensorrt-backend';

const nvcc = findNvcc();
const gpu = hasCudaGpu();
const needsNvcc = nvcc ? describe : describe.skip;
const needsGpu = gpu ? it : it.skip;

/** A frame with gradients, edges and noise from a fixed seed, so every tap weight and rounding case is exercised. */
function syntheticFrame(width: number, height: number, stride = width * 3, seed = 1): ImageView {
  const data = new Uint8Array((height - 1) * stride + width * 3);
  let state = seed;
  const noise = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * stride + x * 3;
      data[at] = (x * 255) / (width - 1);
      data[at + 1] = ((x >> 3) + (y >> 3)) % 2 ? 250 : 5;
      data[at + 2] = noise();
    }
  }
  return { data, width, height, stride };
}

const seed = getPreset('seed');
const paddleDefault = getPreset('default');
const upscaleToMin: DetectionPreset = { ...paddleDefault, name: 'min-736', resize: { kind: 'limit', limitSideLen: 736, limitType: 'min' } };
const fixed: DetectionPreset = { ...paddleDefault, name: 'fixed', resize: { kind: 'fixed', width: 640, height: 640 } };

/** Frames and presets covering both GPU passes, each resize direction, odd sizes and padded rows. */
const CASES: { title: string; frame: ImageView; preset: DetectionPreset }[] = [
  { title: 'seed, 640x480: squash to 960x960 as bytes, then normalize', frame: syntheticFrame(640, 480), preset: seed },
  { title: 'seed, 1280x720: squash down, then normalize', frame: syntheticFrame(1280, 720, 1280 * 3, 2), preset: seed },
  { title: 'seed, 960x960: no squash, normalize only', frame: syntheticFrame(960, 960, 960 * 3, 3), preset: seed },
  { title: 'default, 640x480: copy and normalize', frame: syntheticFrame(640, 480, 640 * 3, 4), preset: paddleDefault },
  { title: 'default, 1280x720 to 960x544', frame: syntheticFrame(1280, 720, 1280 * 3, 5), preset: paddleDefault },
  { title: 'default, 333x250 with padded rows, to 320x256', frame: syntheticFrame(333, 250, 333 * 3 + 7, 6), preset: paddleDefault },
  { title: 'min limit 736, 300x200 scaled up to 1120x736', frame: syntheticFrame(300, 200, 300 * 3, 7), preset: upscaleToMin },
  { title: 'fixed 640x640 from 481x321', frame: syntheticFrame(481, 321, 481 * 3, 8), preset: fixed },
];

needsNvcc(`CUDA preprocessing kernel${nvcc ? '' : ' (needs nvcc: the CUDA toolkit is absent on this machine)'}`, () => {
  let dir: string;
  let harness: string;
  let casesFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-preprocess-'));
    harness = join(dir, 'preprocess_check');
    // Expected tensors from the CPU Preprocessor, the path the GPU must reproduce.
    const lines = CASES.map(({ frame, preset }, index) => {
      const expected = new Preprocessor(preset).run(frame);
      const plan = devicePreprocessPlan(frame, preset);
      expect(plan.input).toEqual([expected.width, expected.height]);
      const framePath = join(dir, `frame-${index}.bgr`);
      const expectedPath = join(dir, `expected-${index}.f32`);
      writeFileSync(framePath, frame.data);
      writeFileSync(expectedPath, new Uint8Array(expected.tensor.buffer, expected.tensor.byteOffset, expected.tensor.byteLength));
      // Float32 constants with 9 significant digits read back as the same float32 the CPU kernels use.
      const f32 = (value: number) => Math.fround(value).toPrecision(9);
      const { mean, std, scale } = plan;
      return [
        framePath,
        frame.width,
        frame.height,
        frame.stride,
        plan.intermediate ? plan.intermediate.join('x') : '-',
        plan.input.join('x'),
        f32(scale),
        ...mean.map(f32),
        ...std.map(f32),
        expectedPath,
      ].join(' ');
    });
    casesFile = join(dir, 'cases.txt');
    writeFileSync(casesFile, `${lines.join('\n')}\n`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles preprocess.cu and the check harness with nvcc', () => {
    // The flags binding.gyp uses: no contraction into fused multiply-adds, which would change the results.
    const compiled = spawnSync(
      nvcc as string,
      ['-std=c++17', '--fmad=false', '-O2', '-Xcompiler', '-ffp-contract=off,-Wall', 'src/preprocess.cu', 'test/preprocess_check.cc', '-o', harness],
      { cwd: NATIVE_DIR, encoding: 'utf8' },
    );
    expect({ status: compiled.status, output: `${compiled.stdout}${compiled.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  }, 240_000);

  it(`runs the kernel's per-pixel code on the CPU bit for bit like the CPU Preprocessor (${CASES.length} geometries)`, () => {
    const run = spawnSync(harness, ['--on', 'host', casesFile], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('all equal');
    expect(run.stdout.match(/^host case \d+: .* equal$/gm)).toHaveLength(CASES.length);
    expect(run.status).toBe(0);
  }, 120_000);

  needsGpu(`runs the kernel on the GPU bit for bit like the CPU Preprocessor, twice over ${CASES.length} geometries${gpu ? '' : ' (needs a CUDA GPU: none on this machine)'}`, () => {
    const run = spawnSync(harness, ['--on', 'gpu', casesFile], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('all equal');
    expect(run.stdout.match(/^gpu round \d case \d+: .* equal$/gm)).toHaveLength(2 * CASES.length);
    expect(run.status).toBe(0);
  }, 120_000);
});
