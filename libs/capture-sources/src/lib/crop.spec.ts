import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PixelFormat } from '@iev/frame-protocol';
import { ConfigError, readConfig } from '@iev/service-runtime';
import { take } from '../test-support/decoders';
import { ANAMORPHIC_PICTURES, darkBox, writeAnamorphicSquare } from '../test-support/non-square-pixels';
import { parseCrop } from './crop';
import type { CapturedFrame, FrameSource } from './frame-source';
import { buildGstLaunchArgs } from './gstreamer-source';
import { prepareSource, type PreparedSource, type SourceSettings } from './prepare-source';
import { SourceSupervisor } from './source-supervisor';
import { sourceConfigSpec } from './source-config';
import type { FrameSourceOptions, SourceTypeOverride } from './resolve-source';
import { VideoSourceError } from './video-source-error';

jest.setTimeout(30_000);

const DEMO_VIDEO = join(__dirname, '../../../../assets/demo/demo.mp4');

/** testsrc2's colour bars at 640x480, left to right, as BGR: each about 107 pixels wide, over the whole height. */
const BARS = { red: [0, 0, 255], green: [0, 255, 0], yellow: [0, 255, 255], blue: [255, 0, 0], magenta: [255, 0, 255], cyan: [255, 255, 0] } as const;

/** The BGR colour at a pixel, each channel as 0 (under 64), 255 (over 191) or the value itself, so bars read as their names. */
const colourAt = ({ header, pixels }: CapturedFrame, x: number, y: number) =>
  [...pixels.subarray(y * header.stride + x * 3, y * header.stride + x * 3 + 3)].map((channel) => (channel < 64 ? 0 : channel > 191 ? 255 : channel));

/** The first frame of a source prepared as capture prepares CAMERA_PATH with these settings, in BGR24 to read its colours. */
async function firstFrame(settings: Partial<SourceSettings> & { source: string }, options: FrameSourceOptions & { sourceType?: SourceTypeOverride } = {}): Promise<CapturedFrame> {
  const prepared = await prepareSource({ fps: 0, width: 0, height: 0, crop: '', ...settings }, { pixelFormat: PixelFormat.BGR24, realtime: false, ...options }, { setting: 'CAMERA_PATH' });
  const [frame] = await take(prepared.create(), 1);
  return frame;
}

/** What the source fails with before its first frame; a frame instead fails the spec (and stops the source). */
async function failureBeforeFirstFrame(source: FrameSource): Promise<Error> {
  const frames = await take(source, 1).catch((error: Error) => error);
  if (frames instanceof Error) return frames;
  throw new Error(`a frame of ${frames[0].header.width}x${frames[0].header.height} came instead of a failure`);
}

describe('CAPTURE_CROP, as read at start-up', () => {
  const problems = (crop: string): string[] => {
    try {
      readConfig(sourceConfigSpec, { CAPTURE_CROP: crop });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
    }
    return [];
  };

  it('takes x,y,width,height, each in pixels or a percentage, into one canonical text; empty is the whole picture', () => {
    expect(readConfig(sourceConfigSpec, { CAPTURE_CROP: ' 960, 540 ,960,540 ' }).crop).toBe('960,540,960,540');
    expect(readConfig(sourceConfigSpec, { CAPTURE_CROP: '50.0%,0%,12.5%,100%' }).crop).toBe('50%,0%,12.5%,100%');
    expect(readConfig(sourceConfigSpec, { CAPTURE_CROP: '' }).crop).toBe('');
    expect(readConfig(sourceConfigSpec, {}).crop).toBe('');
    expect(parseCrop('10,20,30%,40', 'CAPTURE_CROP')).toMatchObject({ x: { value: 10, unit: 'px' }, width: { value: 30, unit: '%' }, setting: 'CAPTURE_CROP' });
  });

  it('stops start-up naming the variable: not four values, a negative or fractional pixel, nothing kept, over 100%', () => {
    expect(problems('960x540')).toEqual([expect.stringMatching(/^CAPTURE_CROP must be x,y,width,height of the picture to keep, each in pixels or a percentage .* \(got "960x540"\)$/)]);
    expect(problems('-10,0,100,100')).toEqual([expect.stringMatching(/^CAPTURE_CROP must be .*: its x "-10" is neither \(got/)]);
    expect(problems('0,0,10.5,100')).toEqual([expect.stringMatching(/its width "10.5" is neither/)]);
    expect(problems('0,0,1,100')).toEqual([expect.stringMatching(/^CAPTURE_CROP must keep something: its width must be at least 2 pixels or above 0%/)]);
    expect(problems('0,0,100,0%')).toEqual([expect.stringMatching(/its height must be at least 2 pixels or above 0%/)]);
    expect(problems('0,0,101%,10')).toEqual([expect.stringMatching(/its width is over 100%/)]);
    expect(problems('60%,0,50%,10')).toEqual([expect.stringMatching(/^CAPTURE_CROP must lie inside the picture: its x and width add up to over 100%/)]);
  });
});

describe('a crop inside ffmpeg (real ffmpeg on its test pattern and on files)', () => {
  it("hands on only the region asked, in the source's pixels: testsrc's yellow and blue bars", async () => {
    const frame = await firstFrame({ source: 'testsrc', crop: '214,400,212,80' });

    expect(frame.header).toMatchObject({ width: 212, height: 80 });
    expect(colourAt(frame, 50, 40)).toEqual(BARS.yellow);
    expect(colourAt(frame, 160, 40)).toEqual(BARS.blue);
  });

  it('rounds each value down to an even pixel, as 4:2:0 pictures need', async () => {
    const frame = await firstFrame({ source: 'testsrc', crop: '215,401,213,81' }, { pixelFormat: PixelFormat.I420 });

    expect(frame.header).toMatchObject({ width: 212, height: 80, pixelFormat: PixelFormat.I420 });
  });

  it('takes percentages of the picture, and is scaled after: CAPTURE_WIDTH and CAPTURE_HEIGHT size the region', async () => {
    const frame = await firstFrame({ source: 'testsrc', crop: '50%,75%,50%,25%', width: 160 });

    // 320x120 from x 320, y 360 (blue, magenta, cyan), scaled to 160 wide.
    expect(frame.header).toMatchObject({ width: 160, height: 60 });
    expect(colourAt(frame, 25, 55)).toEqual(BARS.blue);
    expect(colourAt(frame, 80, 55)).toEqual(BARS.magenta);
    expect(colourAt(frame, 135, 55)).toEqual(BARS.cyan);
  });

  it("crops a file, its size known from the probe, and fails one whose picture the crop leaves, naming the setting and the picture's size", async () => {
    const frame = await firstFrame({ source: DEMO_VIDEO, crop: '320,240,320,240' });
    expect(frame.header).toMatchObject({ width: 320, height: 240 });

    const prepared = await prepareSource({ source: DEMO_VIDEO, fps: 0, width: 0, height: 0, crop: '400,0,320,240' }, { realtime: false }, { setting: 'CAPTURE_SOURCES[1] CAMERA_PATH' });
    const error = await failureBeforeFirstFrame(prepared.create());
    expect(error).toBeInstanceOf(VideoSourceError);
    expect(error.message).toBe(
      `${DEMO_VIDEO}: CAPTURE_SOURCES[1] CAPTURE_CROP=400,0,320,240 asks for 320x240 at 400,0, which is not inside the picture of 640x480: set CAPTURE_SOURCES[1] CAPTURE_CROP to a region inside it (in percentages it fits any size)`,
    );
    expect((error as VideoSourceError).awaitsSettings).toBe(true);
  });

  it("fails a live source whose picture, learnt from ffmpeg before the first frame, the crop leaves: retried only at the longest wait", async () => {
    const prepared = await prepareSource({ source: 'testsrc', fps: 0, width: 0, height: 0, crop: '0,400,100,100' }, {}, { setting: 'source' });
    const error = await failureBeforeFirstFrame(prepared.create());

    expect(error.message).toBe(
      'test pattern: crop=0,400,100,100 asks for 100x100 at 0,400, which is not inside the picture of 640x480: set crop to a region inside it (in percentages it fits any size)',
    );
    expect((error as VideoSourceError).awaitsSettings).toBe(true);
  });

  describe('of pixels that are not square: in displayed pixels', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'iev-crop-'));
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    // HDV's 120x90 at 4:3, shown 160x90: a black square 45 high, 45 wide as shown, from 57.5 to 102.5.
    const hdv = ANAMORPHIC_PICTURES[1];
    const file = join(workDir, 'hdv.ts');
    beforeAll(() => writeAnamorphicSquare(file, hdv, 'mpegts'));

    // A file is scaled to the region's size from its probe; a stream's region is 100 / (4/3) = 75 stored pixels, kept
    // even (74) by ffmpeg's crop of its 4:2:0 picture, and shown 99 wide.
    it.each([
      ['a file', file, {}, 100],
      ['a stream', `file://${file}`, { sourceType: 'stream' as const }, 99],
    ])("%s: the square keeps its shown width, from the crop's left edge", async (_kind, source, options, width) => {
      const frame = await firstFrame({ source, crop: '60,0,100,90' }, options);

      expect(frame.header).toMatchObject({ width, height: 90 });
      // 57.5 to 102.5 shown, less the 60 cropped: 42.5 wide (in stored pixels, 60 would have cut at 80 shown: 22.5).
      expect(Math.abs(darkBox(frame).width - 42.5)).toBeLessThan(3);
      expect(Math.abs(darkBox(frame).height - 45)).toBeLessThan(3);
    });
  });
});

describe("a new crop of the camera streaming now, checked against its picture before it is switched to (SourceSupervisor.assertCropFits, real ffmpeg)", () => {
  // The demo read as a stream (its picture known only from ffmpeg, as a camera's), 640x480.
  const stream = `file://${DEMO_VIDEO}`;
  const prepare = (crop: string, width = 0) => prepareSource({ source: stream, fps: 0, width, height: 0, crop }, { sourceType: 'stream' }, { setting: 'source' });

  /** A supervisor of the stream with these settings, once it has handed on its first frame; stopped after `check`. */
  async function streaming(crop: string, width: number, check: (supervisor: SourceSupervisor) => Promise<void>): Promise<void> {
    const prepared = await prepare(crop, width);
    const supervisor = new SourceSupervisor(prepared.create, { identity: prepared, failFastBeforeFirstFrame: false });
    const frames = supervisor.frames();
    try {
      await frames.next();
      await check(supervisor);
    } finally {
      await supervisor.stop();
      await frames.return(undefined);
    }
  }

  let prepared600: PreparedSource;
  let prepared400: PreparedSource;
  let preparedPercent: PreparedSource;
  beforeAll(async () => {
    [prepared600, prepared400, preparedPercent] = await Promise.all([prepare('600,0,100,100'), prepare('400,0,100,100'), prepare('90%,0,10%,10%')]);
  });

  it.each([
    ['uncropped, scaled', '', 320],
    ['cropped', '0,0,320,240', 0],
  ])('%s: refuses a crop past its picture, naming the source, the setting and the size, and takes one inside it or in percentages', async (_kind, crop, width) => {
    await streaming(crop, width, async (supervisor) => {
      expect(() => supervisor.assertCropFits(prepared600)).toThrow(
        new VideoSourceError(
          `stream ${stream}: crop=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480: set crop to a region inside it (in percentages it fits any size); it runs on as it was`,
        ),
      );
      expect(() => supervisor.assertCropFits(prepared400)).not.toThrow();
      expect(() => supervisor.assertCropFits(preparedPercent)).not.toThrow();
      expect(supervisor.state).toBe('streaming');
    });
  });

  // Before, taken: a twin patch naming a file (or the test pattern) and a crop past its picture was applied, and the
  // switch to it failed at each start, pending for good, the camera streaming on beside it.
  it("refuses a switch to a video file or the test pattern with a crop its picture (known before it starts) does not hold, naming it, the setting and the size", async () => {
    const toSource = (source: string, crop: string, cropSetting?: string) => prepareSource({ source, fps: 0, width: 0, height: 0, crop }, {}, { setting: 'source', cropSetting });
    const [fileOutside, patternOutside, fileInside, patternInside] = await Promise.all([
      toSource(DEMO_VIDEO, '600,0,100,100'),
      toSource('testsrc', '0,400,640,100', 'CAPTURE_CROP'),
      toSource(DEMO_VIDEO, '50%,0,50%,50%'),
      toSource('testsrc', '540,380,100,100'),
    ]);
    await streaming('', 0, async (supervisor) => {
      expect(() => supervisor.assertCropFits(fileOutside)).toThrow(
        new VideoSourceError(`${DEMO_VIDEO}: crop=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480: set crop to a region inside it (in percentages it fits any size)`),
      );
      expect(() => supervisor.assertCropFits(patternOutside)).toThrow(
        new VideoSourceError(
          'test pattern: CAPTURE_CROP=0,400,640,100 asks for 640x100 at 0,400, which is not inside the picture of 640x480: set CAPTURE_CROP to a region inside it (in percentages it fits any size)',
        ),
      );
      expect(() => supervisor.assertCropFits(fileInside)).not.toThrow();
      expect(() => supervisor.assertCropFits(patternInside)).not.toThrow();
    });
  });

  // Before, taken: a crop inside the file's picture passed, but a thin strip of it scaled to the lone side asked is
  // wider than a frame may be, so the file failed at each start, the switch to it pending for good.
  it('refuses a switch to a video file whose crop fits its picture but, scaled to the lone side asked, makes frames too large to send', async () => {
    const strip = await prepareSource({ source: DEMO_VIDEO, fps: 0, width: 0, height: 720, crop: '0,200,640,20' }, {}, { setting: 'source' });
    const tooLarge = `${DEMO_VIDEO}: frames of 23040x720 are larger than 16384 a side, the most a frame may be: ask for a smaller size (CAPTURE_WIDTH, CAPTURE_HEIGHT)`;
    expect((await failureBeforeFirstFrame(strip.create())).message).toBe(tooLarge);
    // The running stream alike: a camera or stream is stopped first, and would have been down until the next patch.
    const runningStrip = await prepare('0,0,2,480', 1000);
    await streaming('', 0, async (supervisor) => {
      expect(() => supervisor.assertCropFits(strip)).toThrow(new VideoSourceError(tooLarge));
      expect(() => supervisor.assertCropFits(runningStrip)).toThrow(
        new VideoSourceError(`stream ${stream}: frames of 1000x240000 are larger than 16384 a side, the most a frame may be: ask for a smaller size (CAPTURE_WIDTH, CAPTURE_HEIGHT); it runs on as it was`),
      );
    });
  });

  it("checks a crop of the source switched to make-before-break against its own picture, not the one it took over from while that one stops", async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'iev-crop-takeover-'));
    const wide = join(workDir, 'wide.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=10:duration=2', '-pix_fmt', 'yuv420p', wide]);
    // The test pattern (640x480) switched to a wide file beside it, which any number of readers read.
    const pattern = await prepareSource({ source: 'testsrc', fps: 0, width: 0, height: 0, crop: '' }, {}, { setting: 'source' });
    const supervisor = new SourceSupervisor(pattern.create, { identity: pattern, failFastBeforeFirstFrame: false });
    const frames = supervisor.frames();
    try {
      await frames.next();
      // 700,0 lies inside the wide picture only.
      const wideCropped = await prepareSource({ source: wide, fps: 0, width: 0, height: 0, crop: '700,0,100,100' }, {}, { setting: 'source' });
      const checks: (string | undefined)[] = [];
      const check = () => {
        try {
          supervisor.assertCropFits(wideCropped);
          checks.push(undefined);
        } catch (error) {
          checks.push((error as Error).message);
        }
      };
      // Checked at the moment the file's first frame takes over, while the test pattern is being stopped.
      const wideStream = await prepareSource({ source: wide, fps: 0, width: 0, height: 0, crop: '' }, {}, { setting: 'source' });
      let tookOver!: () => void;
      const takeover = new Promise<void>((resolve) => (tookOver = resolve));
      await supervisor.switchSource({
        ...wideStream,
        create: () => {
          const source = wideStream.create();
          const started = source.frames.bind(source);
          source.frames = async function* () {
            for await (const frame of started()) {
              setImmediate(() => (check(), tookOver()));
              yield frame;
            }
          };
          return source;
        },
      });
      expect(supervisor.switchPending).toBeDefined();
      await takeover;
      await frames.next();
      check();
      expect(checks).toEqual([undefined, undefined]);
    } finally {
      await supervisor.stop();
      await frames.return(undefined);
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it("leaves a crop to the new source before the picture is known (no frame yet), and of another camera or stream (its picture known only from its decoder)", async () => {
    const prepared = await prepare('');
    expect(() => new SourceSupervisor(prepared.create, { identity: prepared, failFastBeforeFirstFrame: false }).assertCropFits(prepared600)).not.toThrow();
    const other = await prepareSource({ source: 'rtsp://127.0.0.1:8554/other', fps: 0, width: 0, height: 0, crop: '600,0,100,100' }, {}, { setting: 'source' });
    await streaming('', 320, async (supervisor) => expect(() => supervisor.assertCropFits(other)).not.toThrow());
  });
});

describe('a crop inside GStreamer (real gst-launch-1.0)', () => {
  // SMPTE's bars at full strength, 640/7 wide each: white, yellow, cyan (183 to 274), green (274 to 366), ...
  const bars = 'videotestsrc pattern=smpte100 ! video/x-raw,width=640,height=480 ! appsink';

  it("hands on only the region asked, cut by videocrop before the conversion: SMPTE's cyan and green bars", async () => {
    const frame = await firstFrame({ source: bars, crop: '184,0,182,100' });

    expect(frame.header).toMatchObject({ width: 182, height: 100 });
    expect(colourAt(frame, 45, 50)).toEqual(BARS.cyan);
    expect(colourAt(frame, 135, 50)).toEqual(BARS.green);
  });

  it("crops before the conversion a pipeline ends in itself, as the sample's own does (... ! videoconvert ! video/x-raw,format=BGR ! appsink)", async () => {
    const converted = 'videotestsrc pattern=smpte100 ! video/x-raw,width=640,height=480 ! videoconvert ! video/x-raw,format=BGR ! appsink';
    const { args } = buildGstLaunchArgs(converted, { crop: parseCrop('184,0,182,100', 'CAPTURE_CROP') });
    expect(args.indexOf('videocrop')).toBeLessThan(args.indexOf('videoconvert'));

    const frame = await firstFrame({ source: converted, crop: '184,0,182,100' });
    expect(frame.header).toMatchObject({ width: 182, height: 100 });
    expect(colourAt(frame, 45, 50)).toEqual(BARS.cyan);
    expect(colourAt(frame, 135, 50)).toEqual(BARS.green);
  });

  it("refuses at start-up, naming the setting, a crop outside the caps' size or of a pipeline whose size only negotiation tells", async () => {
    const prepare = (source: string, crop: string) => prepareSource({ source, fps: 0, width: 0, height: 0, crop }, {}, { setting: 'CAMERA_PATH' });

    await expect(prepare(bars, '0,0,50%,90%')).resolves.toBeDefined();
    await expect(prepare(bars, '600,0,100,100')).rejects.toThrow(
      'GStreamer pipeline: CAPTURE_CROP=600,0,100,100 asks for 100x100 at 600,0, which is not inside the picture of 640x480: set CAPTURE_CROP to a region inside it',
    );
    await expect(prepare('videotestsrc ! appsink', '0,0,100,100')).rejects.toThrow(/^CAPTURE_CROP crops a GStreamer pipeline only where its caps fix the picture's size, and these do not: /);
  });

  it('runs a pipeline whose caps fix a size but not the pixels\' shape, over a source whose pixels are not square', async () => {
    // An analog capture card's 720x480 at 10:11, its caps asked only for the size (v4l2src ! video/x-raw,width=720,height=480):
    // the crop's caps say square pixels, which the source's are not, so only a scale between them links.
    const pipeline = 'videotestsrc ! video/x-raw,width=720,height=480,pixel-aspect-ratio=10/11 ! identity ! video/x-raw,width=720,height=480 ! appsink';
    const frame = await firstFrame({ source: pipeline, crop: '0,0,50%,50%' });

    expect(frame.header).toMatchObject({ width: 360, height: 240 });
  });

  it("crops pixels that are not square where they are shown, by the caps' pixel-aspect-ratio", async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'iev-crop-gst-'));
    try {
      // HDV's 120x90 at 4:3, shown 160x90, as in ffmpeg's case above.
      const file = join(workDir, 'hdv.mkv');
      writeAnamorphicSquare(file, ANAMORPHIC_PICTURES[1], 'matroska');
      const pipeline = `filesrc location=${file} ! matroskademux ! jpegdec ! videoconvert ! video/x-raw,width=120,height=90,pixel-aspect-ratio=4/3 ! appsink`;
      const frame = await firstFrame({ source: pipeline, crop: '60,0,100,90' });

      expect(frame.header).toMatchObject({ width: 100, height: 90 });
      expect(Math.abs(darkBox(frame).width - 42.5)).toBeLessThan(3);

      // To the right edge from 2 shown: 1.5 stored pixels, 118.5 wide, each rounded up, would end at 121 of 120, a
      // right side of -1, which is videocrop's auto-crop (sized by the caps after it) rather than none.
      expect(buildGstLaunchArgs(pipeline, { crop: parseCrop('2,0,158,90', 'CAPTURE_CROP') }).args).toContain('right=0');
      const toTheEdge = await firstFrame({ source: pipeline, crop: '2,0,158,90' });
      expect(toTheEdge.header).toMatchObject({ width: 158, height: 90 });
      expect(Math.abs(darkBox(toTheEdge).width - 45)).toBeLessThan(3);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
