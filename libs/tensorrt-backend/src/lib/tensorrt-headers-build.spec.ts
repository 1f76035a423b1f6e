import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaIncludeDir, findNvcc, hasCompiler, hasCudaGpu, NATIVE_DIR, nodeIncludeDir, TENSORRT_HEADERS_DIR, tensorRtHeaderSets, WORKSPACE_ROOT } from '../testing/machine';
import { getPreset } from '@iev/text-detection';
import { recognitionInput } from './recognition-input';
import type { NativeBuildOptions, NativeProfile, NativeShape, TensorRtAddon, TensorRtRuntime } from './tensorrt-addon';
import { TensorRtBackend } from './tensorrt-backend';
import { detectionInput, profileForPreset } from './tensorrt-profile';
import { readTensorRtSettings } from './tensorrt-settings';

const nvcc = findNvcc();
const headerSets = tensorRtHeaderSets();
const missing = [
  headerSets.length === 0 && `TensorRT's headers in ${TENSORRT_HEADERS_DIR}`,
  !nvcc && 'nvcc',
  !hasCompiler('g++') && 'g++',
  !hasCompiler('make') && 'make',
  !nodeIncludeDir() && "Node.js's headers",
].filter(Boolean);
const needsHeaders = missing.length === 0 ? describe : describe.skip;
const profile: NativeProfile = { min: [1, 3, 32, 32], opt: [1, 3, 32, 32], max: [1, 3, 32, 32] };

/** The binding built here with the GPU it would run on described, as cudaDevices() reports a Jetson AGX Orin 64GB. */
const orin = (addon: TensorRtAddon): TensorRtRuntime => ({
  addon,
  addonPath: 'tensorrt_addon.node',
  tensorRtVersion: addon.tensorRtVersion(),
  cudaRuntimeVersion: addon.cudaRuntimeVersion(),
  device: { name: 'Orin', computeCapability: '8.7', multiprocessors: 16, totalMemoryBytes: 64 * 2 ** 30 },
});

/**
 * The binding built with its own build (build.mjs, binding.gyp) against each set of NVIDIA's public TensorRT headers,
 * linked against stubs of the extern "C" factories (native/test/tensorrt_link_stubs.cc) and loaded in Node: this
 * proves it compiles and links against the real API of each version. The stubs' factories return null, so only the
 * binding's error paths can run here; engines are built and run where TensorRT is installed.
 */
needsHeaders(`the binding built against TensorRT's headers${missing.length ? ` (needs ${missing.join(', ')}: absent on this machine)` : ''}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-trt-headers-'));
    cpSync(NATIVE_DIR, join(dir, 'native'), { recursive: true, filter: (source) => !/[/\\](build|node_modules)$/.test(source) });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(headerSets)('TensorRT $version', ({ version, include }) => {
    let build: { status: number | null; log: string };
    let addon: TensorRtAddon;

    // Built once per header set; the sets are built one after the other in the same copy of native/.
    beforeAll(() => {
      const stubs = join(dir, `stubs-${version}`);
      mkdirSync(stubs);
      const cuda = cudaIncludeDir(nvcc as string);
      const gxx = (...args: string[]) => {
        const run = spawnSync('g++', args, { cwd: NATIVE_DIR, encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`the link stubs do not build: ${run.stderr}`);
      };
      const object = join(stubs, 'tensorrt_link_stubs.o');
      gxx('-std=c++17', '-c', '-fPIC', '-Wall', '-Wextra', '-isystem', include, '-isystem', cuda, '-o', object, 'test/tensorrt_link_stubs.cc');
      // Linked as -lnvinfer through a link, like TensorRT's own libraries, but under a name of their own per
      // version: both sets' stubs load into one process, and they never stand in for a real libnvinfer.so.10
      // another test in this worker looks for (or finds missing).
      for (const library of ['libnvinfer', 'libnvonnxparser']) {
        const soname = `${library}-link-stub-${version}.so`;
        gxx('-shared', '-pthread', `-Wl,-soname,${soname}`, '-o', join(stubs, soname), object);
        symlinkSync(soname, join(stubs, `${library}.so`));
      }

      const env = { ...process.env, NODE_PATH: join(WORKSPACE_ROOT, 'node_modules'), TENSORRT_INCLUDE_DIR: include, TENSORRT_LIB_DIR: stubs };
      const native = join(dir, 'native');
      const rebuilt = spawnSync(process.execPath, ['build.mjs', 'rebuild', '--jobs', '2'], { cwd: native, env, encoding: 'utf8' });
      build = { status: rebuilt.status, log: `${rebuilt.stdout}${rebuilt.stderr}` };
      if (build.status !== 0) return;
      // A copy per version: a loaded shared object stays loaded under its path.
      const addonPath = join(dir, `tensorrt_addon-${version}.node`);
      copyFileSync(join(native, 'build/Release/tensorrt_addon.node'), addonPath);
      const module = { exports: {} as TensorRtAddon };
      // RTLD_NOW: a TensorRT symbol the stubs lack fails here rather than on first call.
      process.dlopen(module, addonPath, constants.dlopen.RTLD_NOW);
      addon = module.exports;
    }, 600_000);

    it('builds with build.mjs, with no warning from our sources (TensorRT and CUDA headers are system headers)', () => {
      const warnings = build.log.split('\n').filter((line) => /warning|error/i.test(line));
      expect({ status: build.status, warnings }).toEqual({ status: 0, warnings: [] });
      expect(build.log).toMatch(/CXX\(target\) .*trt_engine\.o/);
    });

    it("loads in Node with every TensorRT symbol resolved, and reports the library's version and build", () => {
      expect(addon.tensorRtVersion()).toMatch(new RegExp(`^${version.replace('.', '\\.')}\\.0\\.\\d+$`));
    });

    it('reports the CUDA runtime it loaded, which needs no GPU', () => {
      const release = /release (\d+\.\d+)/.exec(spawnSync(nvcc as string, ['--version'], { encoding: 'utf8' }).stdout)?.[1];
      expect(addon.cudaRuntimeVersion()).toBe(release);
    });

    const model = new Uint8Array([8, 7, 18, 0]);
    const modelPath = '/nonexistent/model.onnx';
    const failedBuild = () => addon.buildEngine(model, { modelPath, fp16: false, profile }).then(() => new Error('built'), (error: Error) => error);

    it("rejects buildEngine when TensorRT cannot create a builder, quoting the error TensorRT logged from its own thread, and only this call's", async () => {
      const first = await failedBuild();
      const second = await failedBuild();
      const stubError = /^TensorRT cannot create a builder \(createInferBuilder\): createInferBuilder: no TensorRT library here, only link stubs \(call (\d+)\)$/;
      expect(first.message).toMatch(stubError);
      expect(second.message).toMatch(stubError);
      expect(Number(stubError.exec(second.message)?.[1])).toBe(Number(stubError.exec(first.message)?.[1]) + 1);
    });

    it('refuses a negative workspace before building', () => {
      expect(() => addon.buildEngine(model, { modelPath, fp16: false, profile, workspaceBytes: -1 })).toThrow('workspaceBytes must be a number >= 0');
    });

    it("refuses a model's path where its bytes belong: it builds from the bytes hashed for the cache key, never the file read again", () => {
      const usage = 'buildEngine(onnx: Uint8Array, { modelPath, fp16, profile })';
      expect(() => addon.buildEngine(modelPath as unknown as Uint8Array, { modelPath, fp16: false, profile })).toThrow(usage);
      expect(() => addon.buildEngine(model, { fp16: false, profile } as NativeBuildOptions)).toThrow(usage);
    });

    it.each<[string, Partial<NativeProfile>, string | RegExp]>([
      ['a shape that is not NCHW', { min: [3, 32, 32] as unknown as NativeShape }, 'profile.min must be [batch, 3, height, width] with positive whole numbers'],
      ['a batch of none', { opt: [0, 3, 32, 32] }, 'profile.opt must be [batch, 3, height, width] with positive whole numbers'],
      ['a fractional width', { max: [1, 3, 32, 32.5] }, 'profile.max must be [batch, 3, height, width] with positive whole numbers'],
      ['one channel', { min: [1, 1, 32, 32] }, 'profile.min has 1 channels: the models take 3'],
      ['min above max', { max: [1, 3, 32, 16] }, 'profile must have min <= opt <= max in every dimension'],
      ['a batch range upside down', { min: [6, 3, 48, 48], opt: [1, 3, 48, 320], max: [6, 3, 48, 320] }, 'profile must have min <= opt <= max in every dimension'],
    ])('refuses a profile with %s before TensorRT is involved', (_case, change, message) => {
      expect(() => addon.buildEngine(model, { modelPath, fp16: false, profile: { ...profile, ...change } })).toThrow(message);
    });

    it('has the engine methods TensorRtBackend calls, outputDims (to size a dynamic output) among them', () => {
      expect(Object.getOwnPropertyNames(addon.Engine.prototype).sort()).toEqual(['constructor', 'dispose', 'inferImage', 'inferTensor', 'outputDims', 'profile']);
    });

    it.each([
      ['detection', 'models/ch_pp_inf_dynamic.onnx', detectionInput(profileForPreset(getPreset('seed'))), '960x960,960x960,1536x1536'],
      ['recognition', 'models/ch_PP-OCRv4_rec_infer.onnx', recognitionInput(), '1x3x48x48,6x3x48x320,6x3x48x1600'],
    ])('says "building engine" while TensorRtBackend builds the %s engine, and fails its load with the builder\'s error, caching nothing', async (kind, model, modelInput, described) => {
      const lines: string[] = [];
      const activity: (string | undefined)[] = [];
      const cacheDir = join(dir, `engines-${version}-${kind}`);
      const backend = new TensorRtBackend({
        ...readTensorRtSettings({}),
        tensorRtCacheDir: cacheDir,
        modelInput,
        modelPath: join(WORKSPACE_ROOT, model),
        log: { info: (line) => lines.push(line), warn: (line) => lines.push(`warn: ${line}`) },
        onActivity: (now) => activity.push(now),
        runtime: orin(addon),
      });
      await expect(backend.load()).rejects.toThrow(/^TensorRT cannot create a builder \(createInferBuilder\): createInferBuilder: no TensorRT library here/);
      expect(activity).toEqual(['building engine', undefined]);
      expect(lines).toEqual([
        expect.stringMatching(/^building a TensorRT engine: no cached engine at /),
        expect.stringMatching(new RegExp(`^building the TensorRT ${version}\\.0\\.\\d+ engine for .*${model} on Orin \\(8\\.7, 16 SMs, 65536 MiB\\), ${Number(version.split('.')[0]) >= 11 ? 'fp32' : 'fp16'}, profile ${described}, workspace 2048 MiB;`)),
      ]);
      expect(existsSync(cacheDir)).toBe(false);
    });

    it('hands the builder the model bytes it hashed for the cache key, even when the model file is replaced after hashing', async () => {
      const modelPath = join(dir, `replaced-${version}.onnx`);
      copyFileSync(join(WORKSPACE_ROOT, 'models/ch_pp_inf_dynamic.onnx'), modelPath);
      const hashed = readFileSync(modelPath);
      const lines: string[] = [];
      const built: { onnx: unknown; options: NativeBuildOptions }[] = [];
      // The real binding's buildEngine, called through: only what it is handed is recorded.
      const recording: TensorRtAddon = Object.create(addon, {
        buildEngine: {
          value: (onnx: Uint8Array, options: NativeBuildOptions) => {
            built.push({ onnx, options });
            return addon.buildEngine(onnx, options);
          },
        },
      });
      const backend = new TensorRtBackend({
        ...readTensorRtSettings({}),
        tensorRtCacheDir: join(dir, `engines-${version}-replaced`),
        modelInput: detectionInput(profileForPreset(getPreset('seed'))),
        modelPath,
        log: {
          info: (line) => {
            lines.push(line);
            // Logged once the key is hashed and no engine is cached for it: a deployment replaces the model now.
            if (line.startsWith('building a TensorRT engine: ')) writeFileSync(modelPath, 'a newer model');
          },
          warn: (line) => lines.push(`warn: ${line}`),
        },
        runtime: orin(recording),
      });
      const sha256 = (data: unknown) => createHash('sha256').update(data as Uint8Array).digest('hex');
      await expect(backend.load()).rejects.toThrow(/^TensorRT cannot create a builder/);
      const keyedAs = /no cached engine at .*\/([0-9a-f]{8})-[0-9a-f]+\.engine$/.exec(lines[0])?.[1];
      expect(keyedAs).toBe(sha256(hashed).slice(0, 8));
      expect(built.map(({ onnx, options }) => ({ onnx: sha256(onnx), modelPath: options.modelPath }))).toEqual([{ onnx: sha256(hashed), modelPath }]);
    });

    it('throws a clear error from new Engine when TensorRT cannot create a runtime', () => {
      expect(() => new addon.Engine(new Uint8Array(16))).toThrow(/^TensorRT cannot create a runtime \(createInferRuntime\): createInferRuntime: no TensorRT library here/);
    });

    if (hasCudaGpu()) {
      it('lists the CUDA devices', () => expect(addon.cudaDevices().length).toBeGreaterThan(0));
    } else {
      it('names the CUDA error when there is no GPU or driver (none on this machine)', () => {
        expect(() => addon.cudaDevices()).toThrow(expect.objectContaining({ code: expect.stringMatching(/^cudaError(NoDevice|InsufficientDriver)$/) }));
      });
    }
  });
});
