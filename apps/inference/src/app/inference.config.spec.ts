import { curveKeyPair } from 'zeromq';
import { readDesired } from '@iev/iot-edge';
import { inferenceTwinSpec, readInferenceConfig, readInferenceCurve, readInferenceSources, readStartupIgnoreRegions } from './inference.config';

describe('inference configuration', () => {
  it('runs the seed preset on ONNX Runtime with no variables set', () => {
    expect(readInferenceConfig({})).toEqual({
      framesConnect: ['tcp://127.0.0.1:5555'],
      detectionsBind: 'tcp://127.0.0.1:5556',
      modelPath: undefined,
      preset: 'seed',
      backend: undefined,
      useTensorRt: false,
      tensorRtCacheDir: 'tmp/tensorrt-engines',
      tensorRtPrecision: 'auto',
      tensorRtProfile: undefined,
      tensorRtWorkspace: 'auto',
      tensorRtAddonPath: undefined,
      streams: 0,
      threads: 0,
      batch: 1,
      recognition: undefined,
      recModelPath: 'models/ch_PP-OCRv4_rec_infer.onnx',
      recDictPath: 'models/ppocr_keys_v1.txt',
      recLookalikes: 'auto',
      recMinScore: 0.5,
      recRefreshMs: 5000,
      recRefreshMaxMs: 60_000,
      recRereadMs: 1000,
      recConfirmFrames: 2,
      hangExitMs: 300_000,
      forgetSourceMs: 3_600_000,
      metricsPort: 9102,
    });
  });

  it("forgets a capture module's silent camera after INFERENCE_FORGET_SOURCE_MS, 0 never, refusing a value below a minute by name", () => {
    expect(readInferenceConfig({ INFERENCE_FORGET_SOURCE_MS: '0' }).forgetSourceMs).toBe(0);
    expect(readInferenceConfig({ INFERENCE_FORGET_SOURCE_MS: '86400000' }).forgetSourceMs).toBe(86_400_000);
    expect(() => readInferenceConfig({ INFERENCE_FORGET_SOURCE_MS: '5000' })).toThrow(
      'INFERENCE_FORGET_SOURCE_MS must be 0 (never) or from 60000 to 86400000: sooner, a camera whose capture restarts (a stream reconnecting, backing off up to 30 s) would be forgotten and its outage with it (got "5000")',
    );
    expect(() => readInferenceConfig({ INFERENCE_FORGET_SOURCE_MS: '1h' })).toThrow('INFERENCE_FORGET_SOURCE_MS must be an integer from 0 to 86400000 (got "1h")');
  });

  it('exits after a hang of HANG_EXIT_MS, 0 never, refusing a value below the 60 s a hang is told at by name', () => {
    expect(readInferenceConfig({ HANG_EXIT_MS: '0' }).hangExitMs).toBe(0);
    expect(readInferenceConfig({ HANG_EXIT_MS: '60000' }).hangExitMs).toBe(60_000);
    expect(() => readInferenceConfig({ HANG_EXIT_MS: '5000' })).toThrow('HANG_EXIT_MS must be 0 (never) or from 60000 to 86400000: a stage is taken for hung after 60 s at the soonest (got "5000")');
    expect(() => readInferenceConfig({ HANG_EXIT_MS: '5m' })).toThrow('HANG_EXIT_MS must be an integer from 0 to 86400000 (got "5m")');
  });

  it('takes the recognition switch and settings, naming a bad one by its variable', () => {
    expect(readInferenceConfig({ RECOGNITION: 'off', REC_MIN_SCORE: '0.8', REC_REFRESH_MS: '0', REC_REFRESH_MAX_MS: '20000', REC_REREAD_MS: '250', REC_CONFIRM_FRAMES: '1', REC_MODEL_PATH: '/models/rec.onnx', REC_LOOKALIKES: 'off' })).toMatchObject({
      recognition: 'off',
      recLookalikes: 'off',
      recMinScore: 0.8,
      recRefreshMs: 0,
      recRefreshMaxMs: 20_000,
      recRereadMs: 250,
      recConfirmFrames: 1,
      recModelPath: '/models/rec.onnx',
    });
    expect(() => readInferenceConfig({ RECOGNITION: 'yes', REC_MIN_SCORE: '2', REC_REFRESH_MAX_MS: '1m', REC_REREAD_MS: '-1', REC_CONFIRM_FRAMES: '0', REC_LOOKALIKES: 'yes' })).toThrow(
      /RECOGNITION must be one of on, off[\s\S]*REC_LOOKALIKES must be one of auto, on, off[\s\S]*REC_MIN_SCORE must be a number[\s\S]*REC_REFRESH_MAX_MS must be an integer[\s\S]*REC_REREAD_MS must be an integer[\s\S]*REC_CONFIRM_FRAMES must be/,
    );
  });

  it('reads the TensorRT settings, naming a bad profile or workspace by its variable', () => {
    const settings = { TENSORRT_CACHE_DIR: '/var/cache/iev/tensorrt', TENSORRT_PRECISION: 'fp16', TENSORRT_PROFILE: '640x480,960x544,1280x736', TENSORRT_WORKSPACE: '1G' };
    expect(readInferenceConfig(settings)).toMatchObject({
      tensorRtCacheDir: '/var/cache/iev/tensorrt',
      tensorRtPrecision: 'fp16',
      tensorRtProfile: { min: { width: 640, height: 480 }, opt: { width: 960, height: 544 }, max: { width: 1280, height: 736 } },
      tensorRtWorkspace: 2 ** 30,
    });
    expect(() => readInferenceConfig({ TENSORRT_PROFILE: '960x960', TENSORRT_WORKSPACE: '1 gallon' })).toThrow(
      /TENSORRT_PROFILE must be three sizes WIDTHxHEIGHT[\s\S]*TENSORRT_WORKSPACE must be auto or a size/,
    );
  });

  it("accepts the original sample's USE_TENSOR_RT spelling", () => {
    expect(readInferenceConfig({ USE_TENSOR_RT: 'True' }).useTensorRt).toBe(true);
  });

  it('names every bad variable', () => {
    expect(() => readInferenceConfig({ FRAMES_CONNECT: 'capture:5555', INFERENCE_BACKEND: 'cuda' })).toThrow(
      /FRAMES_CONNECT must be ZeroMQ endpoints separated by commas[\s\S]*INFERENCE_BACKEND must be one of onnxruntime, tensorrt, auto/,
    );
  });

  it('connects to one capture per camera: FRAMES_CONNECT takes a comma-separated list, each endpoint once', () => {
    expect(readInferenceConfig({ FRAMES_CONNECT: 'tcp://capture:5555' }).framesConnect).toEqual(['tcp://capture:5555']);
    expect(readInferenceConfig({ FRAMES_CONNECT: 'tcp://capture0:5555,tcp://capture1:5555' }).framesConnect).toEqual(['tcp://capture0:5555', 'tcp://capture1:5555']);
    expect(() => readInferenceConfig({ FRAMES_CONNECT: 'tcp://capture0:5555,tcp://capture0:5555' })).toThrow(/FRAMES_CONNECT must name each endpoint once/);
  });

  it('refuses two of its own listening ports on one port and host, naming both variables; FRAMES_BIND only where it decodes its own cameras', () => {
    const ownCameras = { CAPTURE_SOURCES: '[{"CAMERA_PATH":"testsrc"}]' };
    expect(() => readInferenceConfig({ DETECTIONS_BIND: 'tcp://127.0.0.1:17482', METRICS_PORT: '17482' })).toThrow('DETECTIONS_BIND and METRICS_PORT are both port 17482: each needs a port of its own');
    expect(() => readInferenceConfig({ ...ownCameras, FRAMES_BIND: 'tcp://*:5556' })).toThrow('DETECTIONS_BIND and FRAMES_BIND are both port 5556');
    expect(readInferenceConfig({ ...ownCameras, FRAMES_BIND: 'tcp://127.0.0.1:5555' }).framesBind).toBe('tcp://127.0.0.1:5555');
    // Unbound without CAPTURE_SOURCES: an env file shared with capture may give capture's FRAMES_BIND.
    expect(readInferenceConfig({ FRAMES_BIND: 'tcp://*:5556' }).framesBind).toBe('tcp://*:5556');
    // Two addresses may share a port.
    expect(readInferenceConfig({ DETECTIONS_BIND: 'tcp://10.0.0.5:17482', METRICS_PORT: '17482' }).metricsPort).toBe(17482);
  });

  it('takes the number of model streams, 0 meaning auto, and refuses a bad one by name', () => {
    expect(readInferenceConfig({ INFERENCE_STREAMS: '3', INFERENCE_THREADS: '1' })).toMatchObject({ streams: 3, threads: 1 });
    expect(() => readInferenceConfig({ INFERENCE_STREAMS: 'two' })).toThrow(/INFERENCE_STREAMS must be/);
    expect(() => readInferenceConfig({ INFERENCE_STREAMS: '17' })).toThrow(/INFERENCE_STREAMS must be/);
  });

  it('takes the most frames one model run takes, refusing a bad value by name', () => {
    expect(readInferenceConfig({ INFERENCE_BATCH: '4' }).batch).toBe(4);
    for (const bad of ['0', '17', '2.5', 'four']) expect(() => readInferenceConfig({ INFERENCE_BATCH: bad })).toThrow(/INFERENCE_BATCH must be/);
  });

  it("takes PaddleOCR's detection flags as env, range-checked", () => {
    expect(readInferenceConfig({ DET_DB_BOX_THRESH: '0.6', DET_LIMIT_SIDE_LEN: '960' })).toMatchObject({ boxThresh: 0.6, limitSideLen: 960, thresh: undefined });
    expect(() => readInferenceConfig({ DET_DB_THRESH: '1.5', DET_DB_UNCLIP_RATIO: 'wide' })).toThrow(
      /DET_DB_THRESH must be a number from 0 to 1[\s\S]*DET_DB_UNCLIP_RATIO must be a number/,
    );
  });

  it('secures both sockets with one key pair: capture\'s public key for frames, allowed clients for detections', () => {
    const own = curveKeyPair();
    const capture = curveKeyPair();
    const telemetry = curveKeyPair();
    expect(readInferenceCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, FRAMES_CURVE_SERVER_KEY: capture.publicKey, ZMQ_CURVE_CLIENT_KEYS: telemetry.publicKey })).toEqual({
      secretKey: own.secretKey,
      clientKeys: [telemetry.publicKey],
      serverKeys: { FRAMES: capture.publicKey },
    });
    expect(() => readInferenceCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey })).toThrow(/FRAMES_CURVE_SERVER_KEY is required with ZMQ_CURVE_SECRET_KEY/);
    // Decoding its own sources, it connects to no capture: the detections socket alone is secured.
    expect(readInferenceCurve({ ZMQ_CURVE_SECRET_KEY: own.secretKey, CAPTURE_SOURCES: '[{"CAMERA_PATH":"testsrc"}]' })).toEqual({ secretKey: own.secretKey, serverKeys: {} });
  });

  it('decodes its own sources with CAPTURE_SOURCES, which FRAMES_CONNECT beside it would contradict', () => {
    expect(readInferenceSources({})).toEqual([]);
    const sources = JSON.stringify([{ CAMERA_PATH: '/dev/video0' }, { CAMERA_PATH: 'testsrc', SOURCE_ID: 'pattern' }]);
    expect(readInferenceSources({ CAPTURE_SOURCES: sources }).map(({ sourceId, cameraPath }) => [sourceId, cameraPath])).toEqual([
      ['camera0', '/dev/video0'],
      ['pattern', 'testsrc'],
    ]);
    expect(() => readInferenceSources({ CAPTURE_SOURCES: sources, FRAMES_CONNECT: 'tcp://capture:5555' })).toThrow(/CAPTURE_SOURCES and FRAMES_CONNECT are both set/);
  });

  it('refuses two SOURCE_IDs that the module twin would name alike (its `cameras`), naming both', () => {
    const sources = JSON.stringify([{ CAMERA_PATH: 'a.mp4', SOURCE_ID: 'door.1' }, { CAMERA_PATH: 'b.mp4', SOURCE_ID: 'door_1' }, { CAMERA_PATH: 'c.mp4', SOURCE_ID: 'door 2' }]);
    expect(() => readInferenceSources({ CAPTURE_SOURCES: sources })).toThrow(
      `CAPTURE_SOURCES: SOURCE_IDs "door.1" and "door_1" are both door_1 in the module twin (which turns '.', '$', '#' and spaces into '_'): rename one`,
    );
  });

  it('takes ignore regions by SOURCE_ID from IGNORE_REGIONS and from each CAPTURE_SOURCES entry, naming the camera, the region and why of a bad one', () => {
    expect(readInferenceConfig({ IGNORE_REGIONS: '{"camera0": [[0, 0, 0.4, 0.06]], "*": [[[600, 440], [640, 440], [640, 480]]]}' }).ignoreRegions).toBe(
      '{"camera0":[[0,0,0.4,0.06]],"*":[[[600,440],[640,440],[640,480]]]}',
    );
    expect(() => readInferenceConfig({ IGNORE_REGIONS: '{"door": [[0, 0, 0.4, 0.06], [0.5, 0.9, 0.5, 0.2]]}' })).toThrow(
      'IGNORE_REGIONS camera "door" region 1 reaches past the frame: x + width and y + height must be at most 1 in fractions, got [0.5,0.9,0.5,0.2] (got "{\\"door\\": [[0, 0, 0.4, 0.06], [0.5, 0.9, 0.5, 0.2]]}")',
    );
    // An entry gives its camera's list as JSON (not keyed: the entry is the camera); capture's variables stay its own.
    const sources = [{ CAMERA_PATH: 'testsrc', SOURCE_ID: 'door', IGNORE_REGIONS: [[0, 0, 320, 24]] }, { CAMERA_PATH: 'testsrc', SOURCE_ID: 'yard' }];
    expect(readInferenceSources({ CAPTURE_SOURCES: JSON.stringify(sources) }).map(({ sourceId, ignoreRegions }) => [sourceId, ignoreRegions])).toEqual([
      ['door', [[0, 0, 320, 24]]],
      ['yard', undefined],
    ]);
    // Together with the variable's, its key for the same camera given way to the entry's, as every entry variable wins.
    const env = { IGNORE_REGIONS: '{"door": [[0, 0, 1, 1]], "*": [[0, 0, 0.1, 0.1]]}', CAPTURE_SOURCES: JSON.stringify(sources) };
    expect(readStartupIgnoreRegions(readInferenceConfig(env), readInferenceSources(env))).toBe('{"door":[[0,0,320,24]],"*":[[0,0,0.1,0.1]]}');
    // Held to a twin's string together, as they are reported in one.
    const many = [{ CAMERA_PATH: 'testsrc', IGNORE_REGIONS: Array.from({ length: 400 }, () => [0, 0, 320, 24]) }];
    expect(() => readStartupIgnoreRegions(readInferenceConfig(env), readInferenceSources({ CAPTURE_SOURCES: JSON.stringify(many) }))).toThrow(
      /IGNORE_REGIONS with the CAPTURE_SOURCES entries' own lists must be at most 4096 bytes as compact JSON/,
    );
    const bad = [{ CAMERA_PATH: 'testsrc' }, { CAMERA_PATH: 'testsrc', IGNORE_REGIONS: [[0, 0, 320, 0]] }];
    expect(() => readInferenceSources({ CAPTURE_SOURCES: JSON.stringify(bad) })).toThrow(
      'CAPTURE_SOURCES[1]: IGNORE_REGIONS region 0 has no area: its width and height must be above 0, got [0,0,320,0] (got "[[0,0,320,0]]")',
    );
  });

  it("tells a twin that gives ignoreRegions as an object to give it as text, not to give the object it gave", () => {
    const { errors } = readDesired(inferenceTwinSpec, { ignoreRegions: { camera0: [[0, 0, 0.35, 0.08]] } }, {} as never, {} as never);
    expect(errors).toEqual([
      'ignoreRegions must be text: a JSON object of region lists by SOURCE_ID, as a string, e.g. "{\\"camera0\\": [[0, 0, 0.35, 0.08]]}" (got {"camera0":[[0,0,0.35,0.08]]})',
    ]);
    // A polygon that holds no point is refused as every bad region is: the patch rejected, the regions in force kept.
    const flat = readDesired(inferenceTwinSpec, { ignoreRegions: '{"door": [[[10, 10], [20, 20], [30, 30]]]}' }, {} as never, {} as never);
    expect(flat.errors).toEqual([
      'ignoreRegions camera "door" region 0 has no area: its points must not all lie on one line, got [[10,10],[20,20],[30,30]] (got "{\\"door\\": [[[10, 10], [20, 20], [30, 30]]]}")',
    ]);
  });
});
