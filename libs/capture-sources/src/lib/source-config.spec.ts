import { ConfigError, readConfig } from '@iev/service-runtime';
import { PixelFormat } from '@iev/frame-protocol';
import { readSourceList, sourceConfigSpec, sourceSetup, stallAfterMs, stallSetting } from './source-config';

const list = (entries: unknown, env: Record<string, string> = {}) => readSourceList('CAPTURE_SOURCES', { ...env, CAPTURE_SOURCES: JSON.stringify(entries) });
const problemsOf = (read: () => unknown): string[] => {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('no ConfigError');
};

describe('readSourceList', () => {
  it('is empty when the variable is unset or blank', () => {
    expect(readSourceList('CAPTURE_SOURCES', {})).toEqual([]);
    expect(readSourceList('CAPTURE_SOURCES', { CAPTURE_SOURCES: '  ' })).toEqual([]);
  });

  it("reads each entry as a capture module's variables: ids by place, unset ones from the module's environment, then the defaults", () => {
    const [first, second] = list([{ CAMERA_PATH: '/dev/video0' }, { CAMERA_PATH: 'rtsp://door.local/stream', SOURCE_ID: 'door', CAPTURE_FPS: 5, CAPTURE_LOOP: false }], {
      CAPTURE_PIXEL_FORMAT: 'bgr24',
      SOURCE_ID: 'ignored',
    });

    expect(first).toMatchObject({ cameraPath: '/dev/video0', sourceId: 'camera0', pixelFormat: 'bgr24', fps: 0, loop: true, realtime: true });
    expect(second).toMatchObject({ cameraPath: 'rtsp://door.local/stream', sourceId: 'door', pixelFormat: 'bgr24', fps: 5, loop: false });
  });

  it('reports every problem at once, naming the entry and the variable', () => {
    const problems = problemsOf(() => list([{ CAMERA_PATH: 'a.mp4', CAPTURE_FPS: 'fast' }, { CAMERA_PTH: 'b.mp4' }, 'c.mp4', { CAMERA_PATH: 'd.mp4', SOURCE_ID: 'camera0' }]));

    expect(problems).toEqual([
      expect.stringMatching(/^CAPTURE_SOURCES\[0\]: CAPTURE_FPS must be a number/),
      expect.stringMatching(/^CAPTURE_SOURCES\[1\]\.CAMERA_PTH is not a source's variable \(CAMERA_PATH, /),
      'CAPTURE_SOURCES[1].CAMERA_PATH is required',
      'CAPTURE_SOURCES[2] must be an object of variables',
    ]);
    expect(problemsOf(() => list([{ CAMERA_PATH: 'a.mp4' }, { CAMERA_PATH: 'b.mp4', SOURCE_ID: 'camera0' }]))).toEqual([
      'CAPTURE_SOURCES must name each SOURCE_ID once; repeated: camera0',
    ]);
  });

  it('checks the rest of an entry that lacks its CAMERA_PATH', () => {
    expect(problemsOf(() => list([{ CAMERA_PATH: 'a.mp4' }, { CAPTURE_FPS: 'fast', CAPTURE_LOOP: 'sometimes' }]))).toEqual([
      'CAPTURE_SOURCES[1].CAMERA_PATH is required',
      expect.stringMatching(/^CAPTURE_SOURCES\[1\]: CAPTURE_LOOP must be /),
      expect.stringMatching(/^CAPTURE_SOURCES\[1\]: CAPTURE_FPS must be a number/),
    ]);
  });

  it("reports a bad value of the module's own environment once, by its name, not as each entry's that inherits it", () => {
    const problems = problemsOf(() => list([{ CAMERA_PATH: 'a.mp4' }, { CAMERA_PATH: 'b.mp4' }, { CAMERA_PATH: 'c.mp4', CAPTURE_FPS: 'slow' }], { CAPTURE_FPS: 'fast', CAPTURE_LOOP: 'yes please' }));

    expect(problems).toEqual([
      expect.stringMatching(/^CAPTURE_LOOP must be .* \(got "yes please"\), which each CAPTURE_SOURCES entry that leaves it unset inherits$/),
      expect.stringMatching(/^CAPTURE_FPS must be a number.* \(got "fast"\), which each CAPTURE_SOURCES entry that leaves it unset inherits$/),
      expect.stringMatching(/^CAPTURE_SOURCES\[2\]: CAPTURE_FPS must be a number.* \(got "slow"\)$/),
    ]);
  });

  it("masks a camera's password in what it says of an entry", () => {
    const problems = problemsOf(() => list([{ CAMERA_PATH: 'rtsp://door.local/stream', CAPTURE_RTSP_TRANSPORT: 'rtsp://admin:secret@door.local' }]));
    expect(problems.join()).not.toContain('secret');
    expect(problems).toEqual([expect.stringMatching(/^CAPTURE_SOURCES\[0\]: CAPTURE_RTSP_TRANSPORT must be one of tcp, udp/)]);
  });

  it('refuses what is not a JSON array of objects, and an empty one', () => {
    expect(problemsOf(() => readSourceList('CAPTURE_SOURCES', { CAPTURE_SOURCES: 'rtsp://admin:secret@door.local/stream' }))).toEqual(['CAPTURE_SOURCES must be a JSON array of objects, and is not JSON']);
    expect(problemsOf(() => list({ CAMERA_PATH: 'a.mp4' }))).toEqual([expect.stringMatching(/^CAPTURE_SOURCES must be a JSON array of at least one object/)]);
    expect(problemsOf(() => list([]))).toEqual([expect.stringMatching(/^CAPTURE_SOURCES must be a JSON array of at least one object/)]);
    expect(problemsOf(() => list([{ CAMERA_PATH: ['a.mp4'] }]))).toEqual(['CAPTURE_SOURCES[0].CAMERA_PATH must be a string, number or boolean']);
  });
});

describe('sourceSetup', () => {
  it("turns a source's settings into prepareSource's arguments", () => {
    const [config] = list([{ CAMERA_PATH: '/dev/video0', CAPTURE_V4L2_FORMAT: 'mjpeg', CAPTURE_WIDTH: 640, CAPTURE_CROP: '10%,20%,50%,50%' }]);
    const bufferHeld = () => false;

    expect(sourceSetup(config, { bufferHeld })).toEqual({
      settings: { source: '/dev/video0', fps: 0, width: 640, height: 0, crop: '10%,20%,50%,50%' },
      options: expect.objectContaining({ sourceId: 'camera0', v4l2InputFormat: 'mjpeg', pixelFormat: PixelFormat.I420, streamTimeoutSeconds: 10, bufferHeld }),
    });
    expect(sourceSetup({ ...config, v4l2Format: 'auto' }).options.v4l2InputFormat).toBeUndefined();
  });
});

describe('stallAfterMs', () => {
  it('is the stream timeout, or three frame intervals where the rate is slower', () => {
    expect(stallAfterMs(10, 0)).toBe(10_000);
    expect(stallAfterMs(10, 25)).toBe(10_000);
    expect(stallAfterMs(2, 0.1)).toBe(30_000);
  });
});

describe('stallSetting', () => {
  it("names the stream timeout beside the source's path, or the rate where three frame intervals are longer", () => {
    const limit = { sourceSetting: 'CAMERA_PATH', streamTimeoutSeconds: 10 };
    expect(stallSetting({ ...limit, fps: 0 })).toBe('CAPTURE_STREAM_TIMEOUT');
    expect(stallSetting({ ...limit, fps: 0.3 })).toBe('CAPTURE_STREAM_TIMEOUT');
    expect(stallSetting({ ...limit, fps: 0.2 })).toBe('three frame intervals at CAPTURE_FPS');
    expect(stallSetting({ ...limit, fps: 0.2, twinFpsSetting: 'fps' })).toBe('three frame intervals at fps');
    expect(stallSetting({ ...limit, sourceSetting: 'CAPTURE_SOURCES[1] CAMERA_PATH', fps: 5 })).toBe('CAPTURE_SOURCES[1] CAPTURE_STREAM_TIMEOUT');
    expect(stallSetting({ ...limit, sourceSetting: 'CAPTURE_SOURCES[1] CAMERA_PATH', fps: 0.1 })).toBe('three frame intervals at CAPTURE_SOURCES[1] CAPTURE_FPS');
  });
});

describe('sourceConfigSpec', () => {
  // genconfig --in-process (tools/nx-plugin/src/lib/in-process-deployment.ts) carries a capture module's source
  // variables into a CAPTURE_SOURCES entry by name; pipeline-e2e runs what it generates. Names of this shape only.
  it('names every source variable CAMERA_PATH, SOURCE_ID, FFMPEG_PATH, GST_LAUNCH_PATH or CAPTURE_*', () => {
    const names = Object.values(sourceConfigSpec).flatMap(({ names }) => names);

    expect(names.filter((name) => !/^(CAMERA_PATH|SOURCE_ID|FFMPEG_PATH|GST_LAUNCH_PATH|CAPTURE_\w+)$/.test(name))).toEqual([]);
    expect(names).toContain('CAPTURE_FPS');
  });

  it("refuses a SOURCE_ID longer than a frame header holds (256 bytes of UTF-8), which would fail every frame's publishing", () => {
    expect(readConfig(sourceConfigSpec, { SOURCE_ID: 'c'.repeat(256) }).sourceId).toHaveLength(256);
    expect(problemsOf(() => readConfig(sourceConfigSpec, { SOURCE_ID: 'é'.repeat(129) }))).toEqual([expect.stringMatching(/^SOURCE_ID must be at most 256 bytes in UTF-8 /)]);
    expect(problemsOf(() => list([{ CAMERA_PATH: 'a.mp4', SOURCE_ID: 'c'.repeat(257) }]))).toEqual([expect.stringMatching(/^CAPTURE_SOURCES\[0\]: SOURCE_ID must be at most 256 bytes/)]);
  });
});
