import { bindOnListenHost, ConfigError, env, listenHost, optional, readConfig, readTogether } from './env';

const spec = {
  cameraPath: env.string('CAMERA_PATH', '/videos/demo.mp4'),
  threads: env.integer('INFERENCE_THREADS', { min: 0, max: 64 }, 0),
  boxThresh: env.number('BOX_THRESH', { min: 0, max: 1 }, 0.5),
  useTensorRt: env.boolean(['USE_TENSOR_RT', 'INFERENCE_USE_TENSORRT'], false),
  preset: env.oneOf('DETECTION_PRESET', ['seed', 'default'] as const, 'seed'),
  endpoint: env.endpoint('FRAMES_ENDPOINT', 'tcp://127.0.0.1:5555'),
};

describe('readConfig', () => {
  it('quotes a refused value, but not the password in a URL, nor a secret', () => {
    const refused = () => {
      throw new Error('must be 40 characters');
    };
    const urlAndSecret = { port: env.integer('PORT', { min: 1, max: 65535 }, 80), key: { ...env.string('KEY'), secret: true, parse: refused } };
    expect(() => readConfig(urlAndSecret, { PORT: 'http://viewer:s3cret@camera:80', KEY: 'nearly-the-key' })).toThrow(
      'PORT must be an integer from 1 to 65535 (got "http://viewer:***@camera:80")\n  - KEY must be 40 characters (got a value not shown: it is a secret)',
    );
  });

  it('uses the fallbacks when nothing is set', () => {
    expect(readConfig(spec, {})).toEqual({
      cameraPath: '/videos/demo.mp4', threads: 0, boxThresh: 0.5, useTensorRt: false, preset: 'seed', endpoint: 'tcp://127.0.0.1:5555',
    });
  });

  it("accepts the original sample's values", () => {
    const config = readConfig(spec, { USE_TENSOR_RT: 'True', CAMERA_PATH: 'v4l2src device=/dev/video0 ! appsink' });
    expect(config.useTensorRt).toBe(true);
    expect(config.cameraPath).toBe('v4l2src device=/dev/video0 ! appsink');
  });

  it('reads the first alias that is set', () => {
    expect(readConfig(spec, { INFERENCE_USE_TENSORRT: 'yes' }).useTensorRt).toBe(true);
  });

  it('parses ipc endpoints, integers, numbers and choices in any case', () => {
    const config = readConfig(spec, { FRAMES_ENDPOINT: 'ipc:///tmp/frames', INFERENCE_THREADS: '4', BOX_THRESH: '0.6', DETECTION_PRESET: 'Default' });
    expect(config).toMatchObject({ endpoint: 'ipc:///tmp/frames', threads: 4, boxThresh: 0.6, preset: 'default' });
  });

  it('reports every bad variable by name, with what was expected and what it got', () => {
    let error: unknown;
    try {
      readConfig(spec, { INFERENCE_THREADS: 'two', BOX_THRESH: '1.5', USE_TENSOR_RT: 'maybe', DETECTION_PRESET: 'fast', FRAMES_ENDPOINT: 'http://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      'INFERENCE_THREADS must be an integer from 0 to 64 (got "two")',
      'BOX_THRESH must be a number from 0 to 1 (got "1.5")',
      'USE_TENSOR_RT must be true or false (got "maybe")',
      'DETECTION_PRESET must be one of seed, default (got "fast")',
      'FRAMES_ENDPOINT must be a ZeroMQ endpoint such as tcp://127.0.0.1:5555, tcp://[::1]:5555 or ipc:///tmp/frames.sock (got "http://x")',
    ]);
    expect((error as Error).message).toContain('Invalid configuration');
  });

  it('reads decimal numbers only', () => {
    const spec = { fps: env.number('PREVIEW_FPS', { min: 0.1, max: 30 }) };
    for (const text of ['2', '2.5', '.5', '+3', '1e1', ' 7 ']) expect(readConfig(spec, { PREVIEW_FPS: text }).fps).toBe(Number(text));
    for (const text of ['0x10', '0b11', '0o7', 'Infinity', '2,5', '']) expect(() => readConfig(spec, { PREVIEW_FPS: text })).toThrow('PREVIEW_FPS must be a number from 0.1 to 30');
  });

  it('reads a tcp endpoint with an IPv6 address in brackets, and refuses one that is not an IPv6 address', () => {
    const spec = { endpoint: env.endpoint('FRAMES_ENDPOINT') };
    for (const endpoint of ['tcp://[::1]:5555', 'tcp://[::]:5555', 'tcp://[fd00::2]:5555', 'tcp://[::ffff:10.0.0.2]:5555']) expect(readConfig(spec, { FRAMES_ENDPOINT: endpoint }).endpoint).toBe(endpoint);
    for (const endpoint of ['tcp://::1:5555', 'tcp://[::1]', 'tcp://[capture]:5555', 'tcp://[::1]:0', 'tcp://[::1:5555', 'tcp://::1]:5555']) {
      expect(() => readConfig(spec, { FRAMES_ENDPOINT: endpoint })).toThrow('FRAMES_ENDPOINT must be a ZeroMQ endpoint');
    }
  });

  it('refuses a tcp port of 0 or above 65535', () => {
    const spec = { endpoint: env.endpoint('FRAMES_ENDPOINT', 'tcp://127.0.0.1:5555') };
    for (const port of ['0', '65536', '99999']) expect(() => readConfig(spec, { FRAMES_ENDPOINT: `tcp://capture:${port}` })).toThrow(ConfigError);
    expect(readConfig(spec, { FRAMES_ENDPOINT: 'tcp://capture:65535' }).endpoint).toBe('tcp://capture:65535');
  });

  it('reads a comma-separated list of endpoints, naming the bad or repeated ones', () => {
    const sources = { frames: env.endpoints('FRAMES_CONNECT', ['tcp://127.0.0.1:5555']) };
    expect(readConfig(sources, {}).frames).toEqual(['tcp://127.0.0.1:5555']);
    expect(readConfig(sources, { FRAMES_CONNECT: 'tcp://capture0:5555' }).frames).toEqual(['tcp://capture0:5555']);
    expect(readConfig(sources, { FRAMES_CONNECT: 'tcp://capture0:5555, tcp://capture1:5555,ipc:///tmp/frames2' }).frames).toEqual([
      'tcp://capture0:5555',
      'tcp://capture1:5555',
      'ipc:///tmp/frames2',
    ]);
    expect(() => readConfig(sources, { FRAMES_CONNECT: 'tcp://capture0:5555,,capture1:5555' })).toThrow(
      'FRAMES_CONNECT must be ZeroMQ endpoints separated by commas, such as tcp://capture0:5555,tcp://capture1:5555; not endpoints: "", "capture1:5555"',
    );
    expect(() => readConfig(sources, { FRAMES_CONNECT: 'tcp://capture0:5555,tcp://capture0:5555' })).toThrow('FRAMES_CONNECT must name each endpoint once; repeated: tcp://capture0:5555');
  });

  it('names a required variable that is missing', () => {
    expect(() => readConfig({ model: env.string('MODEL_PATH') }, {})).toThrow('MODEL_PATH is required (a string)');
  });

  it('reads an unset optional variable as undefined, and validates it when set', () => {
    const backend = { backend: optional(env.oneOf('INFERENCE_BACKEND', ['onnxruntime', 'tensorrt'] as const)) };
    expect(readConfig(backend, {}).backend).toBeUndefined();
    expect(readConfig(backend, { INFERENCE_BACKEND: 'tensorrt' }).backend).toBe('tensorrt');
    expect(() => readConfig(backend, { INFERENCE_BACKEND: 'cuda' })).toThrow('INFERENCE_BACKEND must be one of onnxruntime, tensorrt');
  });

  it('rejects an integer with a fraction and an empty string', () => {
    expect(() => readConfig(spec, { INFERENCE_THREADS: '1.5' })).toThrow('INFERENCE_THREADS must be an integer');
    expect(() => readConfig(spec, { CAMERA_PATH: ' ' })).toThrow('CAMERA_PATH must not be empty');
  });

  it('reads every value without surrounding whitespace, and one of only whitespace as empty', () => {
    const padded = { CAMERA_PATH: '/dev/video0 ', INFERENCE_THREADS: ' 4', BOX_THRESH: '0.6\n', USE_TENSOR_RT: '\ttrue', DETECTION_PRESET: ' default ', FRAMES_ENDPOINT: ' tcp://capture:5555 ' };
    expect(readConfig(spec, padded)).toEqual({ cameraPath: '/dev/video0', threads: 4, boxThresh: 0.6, useTensorRt: true, preset: 'default', endpoint: 'tcp://capture:5555' });
    // As a twin's desired property, which is parsed without readConfig.
    expect(env.string('CAMERA_PATH').parse(' /dev/video1\t')).toBe('/dev/video1');
    const outcome = (parse: () => unknown) => {
      try {
        return parse();
      } catch (error) {
        return (error as Error).message;
      }
    };
    for (const variable of Object.values(spec)) expect(outcome(() => variable.parse(' \t\n'))).toBe(outcome(() => variable.parse('')));
  });
});

describe('readTogether', () => {
  const threads = { threads: env.integer('INFERENCE_THREADS', { min: 0, max: 64 }, 0) };
  const preset = { preset: env.oneOf('DETECTION_PRESET', ['seed', 'default'] as const, 'seed') };

  it("gives each reader's configuration, or one ConfigError with every reader's problems", () => {
    expect(readTogether(() => readConfig(threads, { INFERENCE_THREADS: '2' }), () => readConfig(preset, {}))).toEqual([{ threads: 2 }, { preset: 'seed' }]);
    const read = () => readTogether(() => readConfig(threads, { INFERENCE_THREADS: 'lots' }), () => readConfig(preset, { DETECTION_PRESET: 'fast' }));
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/INFERENCE_THREADS must be an integer[\s\S]*DETECTION_PRESET must be one of seed, default/);
  });

  it('throws an error that is no configuration problem as it is', () => {
    expect(() => readTogether(() => readConfig(threads, { INFERENCE_THREADS: 'lots' }), () => { throw new TypeError('a bug'); })).toThrow(TypeError);
  });
});

describe('listenHost', () => {
  it('listens on 127.0.0.1 unless LISTEN_HOST says otherwise (the module images set 0.0.0.0)', () => {
    expect(listenHost({})).toBe('127.0.0.1');
    expect(listenHost({ LISTEN_HOST: '0.0.0.0' })).toBe('0.0.0.0');
    const spec = { bind: env.endpoint('FRAMES_BIND', bindOnListenHost(5555)) };
    expect(readConfig(spec, {}).bind).toBe('tcp://127.0.0.1:5555');
    expect(readConfig(spec, { LISTEN_HOST: '0.0.0.0' }).bind).toBe('tcp://0.0.0.0:5555');
    expect(readConfig(spec, { LISTEN_HOST: '0.0.0.0', FRAMES_BIND: 'tcp://*:6000' }).bind).toBe('tcp://*:6000');
  });

  it('takes an IPv6 LISTEN_HOST bare, and binds endpoints on it in brackets', () => {
    const spec = { bind: env.endpoint('FRAMES_BIND', bindOnListenHost(5555)) };
    for (const [host, bind] of [['::', 'tcp://[::]:5555'], [' ::1 ', 'tcp://[::1]:5555'], ['fd00::2', 'tcp://[fd00::2]:5555']]) {
      expect(listenHost({ LISTEN_HOST: host })).toBe(host.trim());
      expect(readConfig(spec, { LISTEN_HOST: host }).bind).toBe(bind);
    }
  });

  it('stops on a LISTEN_HOST no endpoint could carry, naming it', () => {
    for (const bad of ['[::]', ':::', 'bad host', 'host:80']) {
      expect(() => listenHost({ LISTEN_HOST: bad })).toThrow(`LISTEN_HOST must be a host name, an IPv4 address such as 0.0.0.0 or an IPv6 address such as :: (got ${JSON.stringify(bad)})`);
    }
  });
});
