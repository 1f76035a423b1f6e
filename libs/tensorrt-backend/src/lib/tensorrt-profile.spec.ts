import { ConfigError } from '@iev/service-runtime';
import { customizePreset, getPreset } from '@iev/text-detection';
import { InputShapeError } from './model-input';
import { checkInputSize, detectionInput, engineProfile, parseTensorRtProfile, profileForPreset, SAMPLE_PROFILE } from './tensorrt-profile';
import { parseWorkspace, readTensorRtSettings, resolvePrecision, resolveWorkspace } from './tensorrt-settings';

describe('TensorRT profile', () => {
  it("reads min,opt,max as WIDTHxHEIGHT, the sample's by default", () => {
    expect(parseTensorRtProfile('640x480, 960x544,1280X736')).toEqual({
      min: { width: 640, height: 480 },
      opt: { width: 960, height: 544 },
      max: { width: 1280, height: 736 },
    });
    expect(readTensorRtSettings({}).tensorRtProfile).toBeUndefined();
  });

  it("defaults to the sample's min and max tuned for the 960x960 that seed feeds, and to one covering the default preset's inputs (640x480 included)", () => {
    expect(profileForPreset(getPreset('seed'))).toEqual({
      min: { width: 960, height: 960 },
      opt: { width: 960, height: 960 },
      max: { width: 1536, height: 1536 },
    });
    const profile = profileForPreset(getPreset('default'));
    expect(profile).toEqual({ min: { width: 32, height: 32 }, opt: { width: 960, height: 960 }, max: { width: 960, height: 960 } });
    expect(() => checkInputSize(profile, { width: 640, height: 480 })).not.toThrow();
  });

  it('is the one size a model whose input is fixed takes, whatever the preset squashes frames to first', () => {
    const size = { width: 640, height: 480 };
    for (const preset of ['seed', 'default']) expect(profileForPreset(customizePreset(preset, {}, size))).toEqual({ min: size, opt: size, max: size });
  });

  it('builds a fixed-size model for its size, and refuses a TENSORRT_PROFILE of any other, naming it', () => {
    const size = { width: 640, height: 640 };
    const fixed = customizePreset('default', {}, size);
    const own = { min: size, opt: size, max: size };
    const wider = parseTensorRtProfile('32x32,960x960,960x960');

    expect(engineProfile(fixed)).toEqual(own);
    expect(engineProfile(fixed, parseTensorRtProfile('640x640,640x640,640x640'))).toEqual(own);
    expect(() => engineProfile(fixed, wider)).toThrow(ConfigError);
    expect(() => engineProfile(fixed, wider)).toThrow(
      'TENSORRT_PROFILE=32x32,960x960,960x960 cannot be built for this model: its input is fixed at 640x640, the one size its engine takes; ' +
        'leave TENSORRT_PROFILE unset (or set it to 640x640,640x640,640x640)',
    );
    // A model that takes any size takes any profile asked for, and the preset's own where none is.
    expect(engineProfile(getPreset('default'), wider)).toBe(wider);
    expect(engineProfile(getPreset('seed'))).toEqual(profileForPreset(getPreset('seed')));
  });

  it.each([
    ['960x960,1280x1280', /three sizes WIDTHxHEIGHT for min,opt,max/],
    ['960,1280,1536', /three sizes/],
    ['960x960,1000x1000,1536x1536', /multiples of 32 .* 1000x1000 is not/],
    ['1280x1280,960x960,1536x1536', /min <= opt <= max/],
    ['960x960,1280x1280,1536x1024', /min <= opt <= max/],
  ])('rejects %s, naming TENSORRT_PROFILE', (text, message) => {
    expect(() => readTensorRtSettings({ TENSORRT_PROFILE: text })).toThrow(ConfigError);
    expect(() => readTensorRtSettings({ TENSORRT_PROFILE: text })).toThrow(/TENSORRT_PROFILE must/);
    expect(() => readTensorRtSettings({ TENSORRT_PROFILE: text })).toThrow(message);
  });

  it('accepts an input inside the profile, sides included', () => {
    for (const size of [SAMPLE_PROFILE.min, SAMPLE_PROFILE.max, { width: 1024, height: 1536 }]) expect(() => checkInputSize(SAMPLE_PROFILE, size)).not.toThrow();
  });

  it('refuses an input outside it, with a profile that would cover it', () => {
    expect(() => checkInputSize(SAMPLE_PROFILE, { width: 640, height: 480 })).toThrow(InputShapeError);
    expect(() => checkInputSize(SAMPLE_PROFILE, { width: 640, height: 480 })).toThrow(
      'model input 640x480 is outside the TensorRT profile (min 960x960, max 1536x1536); set TENSORRT_PROFILE to cover the input sizes ' +
        'of your frames and preset, e.g. TENSORRT_PROFILE=640x480,1280x1280,1536x1536',
    );
    expect(() => checkInputSize(SAMPLE_PROFILE, { width: 2048, height: 960 })).toThrow('TENSORRT_PROFILE=960x960,1280x1280,2048x1536');
  });

  it('refuses an input whose sides are not multiples of 32', () => {
    expect(() => checkInputSize(SAMPLE_PROFILE, { width: 1000, height: 960 })).toThrow('model input 1000x960 is not a multiple of 32');
  });
});

describe('the detection input as TensorRtBackend sees it', () => {
  const input = detectionInput(SAMPLE_PROFILE);

  it('builds the engine for one frame [1, 3, H, W] within the profile, and describes it as TENSORRT_PROFILE is written', () => {
    expect(input.profile).toEqual({ min: [1, 3, 960, 960], opt: [1, 3, 1280, 1280], max: [1, 3, 1536, 1536] });
    expect(input.describe()).toBe('960x960,1280x1280,1536x1536');
  });

  it('takes [1, 3, H, W] inside the profile and refuses other shapes before the engine sees them', () => {
    expect(() => input.check([1, 3, 1536, 1024])).not.toThrow();
    expect(() => input.check([2, 3, 960, 960])).toThrow(new InputShapeError("tensorrt: a batch of 2 frames is more than the engine's profile takes (1, set by INFERENCE_BATCH)"));
    expect(() => input.check([1, 1, 960, 960])).toThrow('tensorrt: input must be [N, 3, H, W] with N at most 1 float32, got [1, 1, 960, 960]');
    expect(() => input.check([3, 960, 960])).toThrow(RangeError);
    expect(() => input.check([1, 3, 480, 640])).toThrow(InputShapeError);
  });

  it('covers batches of 1 to INFERENCE_BATCH frames, tuned for a full one', () => {
    const batched = detectionInput(SAMPLE_PROFILE, 4);
    expect(batched.profile).toEqual({ min: [1, 3, 960, 960], opt: [4, 3, 1280, 1280], max: [4, 3, 1536, 1536] });
    expect(batched.describe()).toBe('960x960,1280x1280,1536x1536, batch 1 to 4');
    for (const batch of [1, 2, 4]) expect(() => batched.check([batch, 3, 960, 960])).not.toThrow();
    expect(() => batched.check([5, 3, 960, 960])).toThrow(/a batch of 5 frames is more than the engine's profile takes \(4, set by INFERENCE_BATCH\)/);
    expect(() => batched.check([2, 3, 480, 640])).toThrow(/outside the TensorRT profile/);
    expect(() => detectionInput(SAMPLE_PROFILE, 0)).toThrow(RangeError);
  });
});

describe('TensorRT settings', () => {
  it('defaults to a cache under the working directory, auto precision and no explicit binding path', () => {
    expect(readTensorRtSettings({})).toMatchObject({ tensorRtCacheDir: 'tmp/tensorrt-engines', tensorRtPrecision: 'auto', tensorRtAddonPath: undefined });
  });

  it('names every bad variable', () => {
    expect(() => readTensorRtSettings({ TENSORRT_PRECISION: 'int8', TENSORRT_CACHE_DIR: '' })).toThrow(
      /TENSORRT_CACHE_DIR must not be empty[\s\S]*TENSORRT_PRECISION must be one of auto, fp16, fp32/,
    );
  });

  it('builds auto as FP16 where the GPU runs it at full rate, else FP32', () => {
    const auto = (computeCapability: string) => resolvePrecision('auto', computeCapability, '10.3.0.30');
    // Jetson Nano 5.3, TX2 6.2, Xavier 7.2, Orin 8.7, and x86 Turing to Hopper.
    expect(['5.3', '6.0', '6.2', '7.2', '7.5', '8.6', '8.7', '9.0'].map(auto)).toEqual(Array(8).fill('fp16'));
    // GTX 10x0 (6.1) and Maxwell desktop GPUs compute FP16 at a fraction of FP32's rate.
    expect(['6.1', '5.2', '5.0'].map(auto)).toEqual(['fp32', 'fp32', 'fp32']);
    expect(resolvePrecision('fp32', '8.7', '8.5.2.2')).toBe('fp32');
    expect(resolvePrecision('fp16', '6.1', '8.5.2.2')).toBe('fp16');
  });

  it('builds FP32 on TensorRT 11, whose strongly typed networks follow the FP32 model, and refuses fp16 there naming the variable', () => {
    expect(resolvePrecision('auto', '8.7', '11.1.0.106')).toBe('fp32');
    expect(resolvePrecision('fp32', '9.0', '11.1.0.106')).toBe('fp32');
    expect(() => resolvePrecision('fp16', '9.0', '11.1.0.106')).toThrow(/^TENSORRT_PRECISION=fp16 needs TensorRT 8\.5 to 10: TensorRT 11\.1\.0\.106 builds .* Set TENSORRT_PRECISION=auto or fp32\.$/);
  });

  it('reads TENSORRT_WORKSPACE as auto or a size in bytes, K, M or G', () => {
    expect(readTensorRtSettings({}).tensorRtWorkspace).toBe('auto');
    expect(['auto', '512M', '2G', '1536m', '1073741824', '4096K', '1GiB'].map(parseWorkspace)).toEqual(['auto', 512 * 2 ** 20, 2 * 2 ** 30, 1536 * 2 ** 20, 2 ** 30, 4 * 2 ** 20, 2 ** 30]);
  });

  it.each(['0', '100', '2T', '-1G', '1.5G', 'lots'])('rejects TENSORRT_WORKSPACE=%s at start-up, naming it', (text) => {
    expect(() => readTensorRtSettings({ TENSORRT_WORKSPACE: text })).toThrow(/TENSORRT_WORKSPACE must be auto or a size of at least 1M/);
  });

  it("limits auto to a quarter of the GPU's memory, at most 2 GiB, and refuses a limit the GPU does not have", () => {
    const GiB = 2 ** 30;
    // Orin Nano 4GB and 8GB, AGX Orin 64GB (a Jetson's GPU memory is the system's).
    expect([4, 8, 64].map((gib) => resolveWorkspace('auto', gib * GiB))).toEqual([GiB, 2 * GiB, 2 * GiB]);
    expect(resolveWorkspace(512 * 2 ** 20, 8 * GiB)).toBe(512 * 2 ** 20);
    expect(() => resolveWorkspace(8 * GiB, 8 * GiB)).toThrow("TENSORRT_WORKSPACE=8192 MiB is not less than the GPU's memory (8192 MiB)");
  });
});
