import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PixelFormat } from '@iev/frame-protocol';
import { isRunning } from '@iev/testing';
import { isUniformBgr, isUniformBgrFrame, pidsRunning, take } from '../test-support/decoders';
import { ANAMORPHIC_PICTURES, type AnamorphicPicture, darkBox, writeAnamorphicSquare } from '../test-support/non-square-pixels';
import { grayLevelJpegs, grayLevelPicture, type MultipartCamera, startMultipartCamera } from '../test-support/multipart-camera';
import { DecoderLog, gstLaunchTool } from './decoder-tools';
import type { CapturedFrame } from './frame-source';
import { buildGstLaunchArgs, GstreamerPipelineSource, gstreamerFailureAdvice, readNegotiatedSize } from './gstreamer-source';
import { createFrameSource, resolveSource } from './resolve-source';
import { VideoSourceError } from './video-source-error';

/**
 * What capture keeps of gst-launch-1.0 1.22's output when v4l2src cannot open a node that is there, as it printed it
 * (a node of no driver, made with mknod, gave "No such device or address"): the reason is in the debug info alone.
 */
function unopenedCameraWords(reason: string): string {
  const log = new DecoderLog(gstLaunchTool('gst-launch-1.0'));
  for (const line of [
    'Setting pipeline to PAUSED ...',
    "ERROR: from element /GstPipeline:pipeline0/GstV4l2Src:v4l2src0: Could not open device '/dev/video0' for reading and writing.",
    'Additional debug info:',
    '../sys/v4l2/v4l2_calls.c(622): gst_v4l2_open (): /GstPipeline:pipeline0/GstV4l2Src:v4l2src0:',
    `system error: ${reason}`,
    "ERROR: pipeline doesn't want to preroll.",
    'Failed to set pipeline to PAUSED.',
    'Setting pipeline to NULL ...',
  ]) {
    log.add(line);
  }
  return log.lastWords();
}

jest.setTimeout(20_000);

/** The original sample's CAMERA_PATH. */
const SAMPLE_PIPELINE = 'v4l2src device=/dev/video0 ! video/x-raw, width=640, height=480 ! videoconvert ! video/x-raw,format=BGR ! appsink';
/** The sample's pipeline with caps that say its pixels are square, so its size is known before negotiation. */
const SQUARE_SAMPLE_PIPELINE = SAMPLE_PIPELINE.replace('height=480', 'height=480, pixel-aspect-ratio=1/1');
/** The same with a test source in place of the camera; name= makes its gst-launch findable among the processes. */
const SAMPLE_WITH_TEST_SOURCE = SAMPLE_PIPELINE.replace('v4l2src device=/dev/video0', 'videotestsrc name=sample_form');
const RED: [number, number, number] = [0, 0, 255];
/** Red frames at a width whose BGR rows (90 bytes) GStreamer pads to 92. */
const RED_30_WIDE = 'videotestsrc pattern=red ! video/x-raw,width=30,height=24 ! appsink';
const JETSON_CSI_PIPELINE =
  'nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM), width=1920, height=1080, format=NV12, framerate=30/1 ! ' +
  'nvvidconv flip-method=0 ! video/x-raw, width=960, height=540, format=BGRx ! videoconvert ! video/x-raw, format=BGR ! appsink drop=1';

/** A V4L2 node (major 81) at a minor no camera has, in a temp dir of its own; undefined where none can be made or opened. */
function videoNodeWithoutCamera(): { dir: string; node: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'iev-gst-node-'));
  const node = join(dir, 'video0');
  try {
    execFileSync('mknod', [node, 'c', '81', '255'], { stdio: 'ignore' });
    closeSync(openSync(node, 'r+'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') return { dir, node };
  }
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

describe('buildGstLaunchArgs', () => {
  it('runs a pipeline quietly into fd 3, its size taken from its caps of square pixels and held there', () => {
    expect(buildGstLaunchArgs(SQUARE_SAMPLE_PIPELINE, {})).toEqual({
      args: [
        ...['-q', 'v4l2src', 'device=/dev/video0', '!', 'video/x-raw,', 'width=640,', 'height=480,', 'pixel-aspect-ratio=1/1', '!', 'videoconvert', '!', 'video/x-raw,format=BGR'],
        ...['!', 'videoscale', '!', 'video/x-raw,format=BGR,width=640,height=480', '!', 'fdsink', 'name=iev_frames', 'fd=3'],
      ],
      frameSize: { width: 640, height: 480 },
    });
  });

  it("leaves the size to negotiation where the caps leave the pixels' shape to the camera (an analog capture card's may be 10:11), asking for square ones", () => {
    expect(buildGstLaunchArgs(SAMPLE_PIPELINE, {})).toEqual({
      args: [
        ...['-v', 'v4l2src', 'device=/dev/video0', '!', 'video/x-raw,', 'width=640,', 'height=480', '!', 'videoconvert', '!', 'video/x-raw,format=BGR'],
        ...['!', 'videoscale', '!', 'video/x-raw,format=BGR,pixel-aspect-ratio=1/1', '!', 'fdsink', 'name=iev_frames', 'fd=3'],
      ],
      frameSize: undefined,
    });
  });

  it('converts to BGR when the pipeline does not end in BGR caps, and drops appsink\'s properties', () => {
    const { args } = buildGstLaunchArgs('videotestsrc ! video/x-raw,width=32,height=24 ! appsink sync=false max-buffers=1', {});

    expect(args.join(' ')).toBe('-v videotestsrc ! video/x-raw,width=32,height=24 ! videoconvert ! video/x-raw,format=BGR ! videoscale ! video/x-raw,format=BGR,pixel-aspect-ratio=1/1 ! fdsink name=iev_frames fd=3');
  });

  it('scales inside GStreamer, a lone width keeping the aspect ratio of the pipeline\'s caps, and leaves the rate to capture', () => {
    const { args, frameSize } = buildGstLaunchArgs(SQUARE_SAMPLE_PIPELINE, { width: 320, fps: 7.5 });

    expect(args.slice(-7).join(' ')).toBe('videoscale ! video/x-raw,format=BGR,width=320,height=240 ! fdsink name=iev_frames fd=3');
    expect(args).not.toContain('videorate');
    expect(frameSize).toEqual({ width: 320, height: 240 });
  });

  it('takes a Jetson CSI pipeline\'s size from its last caps with a size, where they say its pixels are square', () => {
    expect(buildGstLaunchArgs(JETSON_CSI_PIPELINE.replace('BGRx', 'BGRx, pixel-aspect-ratio=1/1'), {}).frameSize).toEqual({ width: 960, height: 540 });
    expect(buildGstLaunchArgs(JETSON_CSI_PIPELINE, {}).frameSize).toBeUndefined();
  });

  it.each(['queue max-size-buffers=1', 'queue2', 'videorate', 'identity', 'autovideoconvert'])(
    'holds the caps\' size through %s, which hands frames on at the size it gets them',
    (element) => {
      const { args, frameSize } = buildGstLaunchArgs(`v4l2src ! video/x-raw, width=640, height=480, pixel-aspect-ratio=(fraction)1/1 ! ${element} ! appsink`, {});

      expect(frameSize).toEqual({ width: 640, height: 480 });
      expect(args[0]).toBe('-q');
    },
  );

  it('leaves the size to negotiation when an element after the caps may change it: a Jetson camera turned a quarter', () => {
    const turned = 'nvarguscamerasrc ! video/x-raw(memory:NVMM), width=1920, height=1080 ! nvvidconv flip-method=1 ! video/x-raw, format=BGRx ! videoconvert ! video/x-raw, format=BGR ! appsink';

    const { args, frameSize } = buildGstLaunchArgs(turned, {});

    expect(frameSize).toBeUndefined();
    expect(args[0]).toBe('-v');
    expect(args.slice(-7).join(' ')).toBe('videoscale ! video/x-raw,format=BGR,pixel-aspect-ratio=1/1 ! fdsink name=iev_frames fd=3');
  });

  it('leaves the size to negotiation when the caps do not say it: -v, whose caps lines tell it', () => {
    expect(buildGstLaunchArgs('v4l2src ! appsink', {})).toEqual({
      args: ['-v', 'v4l2src', '!', 'videoconvert', '!', 'video/x-raw,format=BGR', '!', 'videoscale', '!', 'video/x-raw,format=BGR,pixel-aspect-ratio=1/1', '!', 'fdsink', 'name=iev_frames', 'fd=3'],
      frameSize: undefined,
    });
  });

  it('passes a quoted property as one word, without its quotes, as a shell would', () => {
    const { args } = buildGstLaunchArgs('videotestsrc ! textoverlay text="a ! b" ! video/x-raw,format=BGR,width=8,height=8 ! appsink', {});

    expect(args.slice(1, 5)).toEqual(['videotestsrc', '!', 'textoverlay', 'text=a ! b']);
  });

  it('refuses pipelines it cannot turn into frames, saying why', () => {
    expect(() => buildGstLaunchArgs('videotestsrc ! autovideosink', {})).toThrow('GStreamer pipeline must end in appsink (or in the element that makes the frames), not autovideosink');
    expect(() => buildGstLaunchArgs('videotestsrc ! ! appsink', {})).toThrow('GStreamer pipeline has an empty element');
    expect(() => buildGstLaunchArgs('videotestsrc ! textoverlay text="open', {})).toThrow('GStreamer pipeline has an unclosed "');
  });
});

describe('readNegotiatedSize', () => {
  it('reads the size from gst-launch -v\'s caps line for our sink only', () => {
    const caps = 'caps = video/x-raw, format=(string)BGR, width=(int)320, height=(int)240, framerate=(fraction)30/1';

    expect(readNegotiatedSize(`/GstPipeline:pipeline0/GstFdSink:iev_frames.GstPad:sink: ${caps}`)).toEqual({ width: 320, height: 240 });
    expect(readNegotiatedSize(`/GstPipeline:pipeline0/GstVideoConvert:videoconvert0.GstPad:src: ${caps}`)).toBeUndefined();
  });
});

describe('GstreamerPipelineSource (real gst-launch-1.0)', () => {
  it('reads the sample\'s pipeline form, appsink and all, as 640x480 BGR frames', async () => {
    const source = new GstreamerPipelineSource({ pipeline: SAMPLE_WITH_TEST_SOURCE, sourceId: 'camera0' });
    let pid = 0;

    const frames: Buffer[] = [];
    const sequences: number[] = [];
    for await (const { header, pixels } of source.frames()) {
      expect(header).toMatchObject({ sourceId: 'camera0', width: 640, height: 480, stride: 640 * 3, pixelFormat: PixelFormat.BGR24 });
      frames.push(pixels);
      sequences.push(header.sequence);
      [pid] = pidsRunning('gst-launch-1.0', 'name=sample_form');
      if (frames.length === 3) break;
    }

    expect(frames.map((pixels) => pixels.length)).toEqual([921_600, 921_600, 921_600]);
    // Live: a frame not taken before the next arrived is dropped, so sequence numbers rise but may skip.
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(source.stats.framesDecoded).toBeGreaterThanOrEqual(sequences[2] + 1);
    // Leaving the loop stopped gst-launch.
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('hands gst-launch one end of a unix socket of its own for the frames, read without a chunk per read, its file removed', async () => {
    const source = new GstreamerPipelineSource({ pipeline: 'videotestsrc ! video/x-raw,width=32,height=24 ! identity name=frames_socket ! appsink' });
    let framesSocket: string | undefined;
    for await (const frame of source.frames()) {
      expect(frame.pixels).toHaveLength(32 * 24 * 3);
      const [pid] = pidsRunning('gst-launch-1.0', 'name=frames_socket');
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/3`))?.[1];
      // /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path. A pipe (libuv's socketpair) has no path.
      framesSocket = readFileSync('/proc/net/unix', 'utf8').split('\n').map((line) => line.split(/\s+/)).find((fields) => fields[6] === inode)?.[7];
      break;
    }

    expect(framesSocket).toMatch(/\/iev-gst-[^/]+\/frames\.sock$/);
    expect(existsSync(dirname(framesSocket ?? '/'))).toBe(false);
  });

  it('reads the frames through a pipe where no unix socket can be had (a TMPDIR too long for one), a frame of many chunks intact', () => {
    // In a Node.js of its own: os.tmpdir() reads the real environment, not a spec's. A TMPDIR that is not there would
    // not do: the child's ts-node makes it (v8-compile-cache), and the socket goes there.
    const longTmpdir = mkdtempSync(join(tmpdir(), `iev-${'x'.repeat(100)}-`));
    const readOne = `
      const { readFileSync, readlinkSync } = require('node:fs');
      const { GstreamerPipelineSource } = require('./libs/capture-sources/src/lib/gstreamer-source');
      const { isUniformBgrFrame, pidsRunning } = require('./libs/capture-sources/src/test-support/decoders');
      (async () => {
        const source = new GstreamerPipelineSource({ pipeline: 'videotestsrc pattern=red ! video/x-raw,width=640,height=480 ! identity name=frames_pipe ! appsink' });
        for await (const frame of source.frames()) {
          const [pid] = pidsRunning('gst-launch-1.0', 'name=frames_pipe');
          const inode = /^socket:\\[(\\d+)\\]$/.exec(readlinkSync('/proc/' + pid + '/fd/3'))?.[1];
          // /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; libuv's socketpair has no path.
          const fields = readFileSync('/proc/net/unix', 'utf8').split('\\n').map((line) => line.split(/\\s+/)).find((fields) => fields[6] === inode);
          console.log(JSON.stringify({ red: isUniformBgrFrame(frame, [0, 0, 255]), unixSocket: fields !== undefined, path: fields?.[7] ?? '' }));
          break;
        }
      })();`;

    let printed: string;
    try {
      printed = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', readOne], {
        cwd: join(__dirname, '../../../..'),
        env: { ...process.env, TS_NODE_PROJECT: 'libs/capture-sources/tsconfig.spec.json', TMPDIR: longTmpdir },
        encoding: 'utf8',
      });
    } finally {
      rmSync(longTmpdir, { recursive: true, force: true });
    }

    expect(JSON.parse(printed)).toEqual({ red: true, unixSocket: true, path: '' });
  });

  it('fails the start, naming why, where spawn throws rather than emits (E2BIG: an argument past 128 KB)', async () => {
    const source = new GstreamerPipelineSource({ pipeline: `videotestsrc name=${'a'.repeat(200_000)} ! appsink` });
    await expect(take(source, 1)).rejects.toThrow(/cannot start .*gst-launch-1\.0 .*E2BIG/);
  });

  it('converts to BGR itself: a red pattern without BGR caps reads as (0, 0, 255)', async () => {
    const [frame] = await take(new GstreamerPipelineSource({ pipeline: 'videotestsrc pattern=red ! video/x-raw,width=32,height=24 ! appsink' }), 1);

    expect(frame.header).toMatchObject({ sourceId: 'gstreamer', width: 32, height: 24 });
    expect(isUniformBgr(frame.pixels, [0, 0, 255])).toBe(true);
  });

  it('scales inside GStreamer to the requested size', async () => {
    const [frame] = await take(new GstreamerPipelineSource({ pipeline: SAMPLE_WITH_TEST_SOURCE, width: 64, height: 36, fps: 5 }), 1);

    expect(frame.header).toMatchObject({ width: 64, height: 36, stride: 64 * 3 });
    expect(frame.pixels).toHaveLength(64 * 36 * 3);
  });

  it('hands on a picture a pipeline turns after its caps at the turned size, not squashed back into the caps', async () => {
    const turned = 'videotestsrc pattern=red ! video/x-raw,width=32,height=24 ! videoflip video-direction=90r ! appsink';

    const [frame] = await take(new GstreamerPipelineSource({ pipeline: turned }), 1);
    const [halved] = await take(new GstreamerPipelineSource({ pipeline: turned, width: 12 }), 1);

    expect(frame.header).toMatchObject({ width: 24, height: 32 });
    expect(halved.header).toMatchObject({ width: 12, height: 16 });
  });

  it('learns the size from negotiation when the pipeline does not give one', async () => {
    const [frame] = await take(new GstreamerPipelineSource({ pipeline: 'videotestsrc pattern=blue ! appsink' }), 1);

    // videotestsrc's default size.
    expect(frame.header).toMatchObject({ width: 320, height: 240 });
    expect(isUniformBgr(frame.pixels, [255, 0, 0])).toBe(true);
  });

  it('fails, naming the pipeline, when it ends: a camera that stops has failed', async () => {
    const pipeline = 'videotestsrc num-buffers=3 ! video/x-raw,width=16,height=16 ! appsink';
    const received: number[] = [];
    const source = new GstreamerPipelineSource({ pipeline });

    await expect(
      (async () => {
        for await (const frame of source.frames()) received.push(frame.header.sequence);
      })(),
    ).rejects.toThrow(`GStreamer pipeline "${pipeline}" ended after 3 frames (gst-launch-1.0 exited with code 0): gst-launch-1.0 reported no error`);
    // A live source hands on its newest frame; those it replaced before they were taken are counted, not lost unseen.
    expect(received.at(-1)).toBe(2);
    expect(received.length + source.stats.framesDropped).toBe(3);
  });

  it('quotes GStreamer when an element is missing: a Jetson CSI pipeline off a Jetson', async () => {
    await expect(take(new GstreamerPipelineSource({ pipeline: JETSON_CSI_PIPELINE }), 1)).rejects.toThrow(
      `gst-launch-1.0 failed reading GStreamer pipeline "${JETSON_CSI_PIPELINE}" (gst-launch-1.0 exited with code 1): WARNING: erroneous pipeline: no element "nvarguscamerasrc"`,
    );
  });

  describe('says what to do, naming the setting that gave the pipeline, where GStreamer says why it failed', () => {
    /** The failure of the pipeline CAMERA_PATH gives, as the capture module makes its source. */
    const failure = (pipeline: string) => take(createFrameSource(resolveSource(pipeline), { setting: 'CAMERA_PATH' }), 1).then(() => undefined, (error: VideoSourceError) => error);

    it('an element GStreamer lacks (a typo, a plugin not installed): fixed by the setting or an install, not by retrying soon', async () => {
      const error = await failure('videotestsrc ! video/x-raw,width=16,height=16 ! videoconvrt ! appsink');

      expect(error?.message).toMatch(
        /no element "videoconvrt": GStreamer has no element videoconvrt: correct its name in CAMERA_PATH, or install the plugin that has it \(gst-inspect-1\.0 videoconvrt finds it once installed;/,
      );
      expect(error?.awaitsSettings).toBe(true);
    });

    it("a v4l2src camera that is not plugged in, or a path that is no camera: ffmpeg's V4L2 source's words, retried as it is", async () => {
      const missing = await failure('v4l2src device=/dev/video99 ! video/x-raw,width=16,height=16 ! appsink');
      expect(missing?.message).toMatch(/Cannot identify device '\/dev\/video99'\..*: no camera at \/dev\/video99: plug it in \(retried meanwhile\), or set CAMERA_PATH to one this device has; in a container, pass it in with --device \/dev\/video99 \(a deployment's createOptions HostConfig\.Devices\)$/);
      expect(missing?.awaitsSettings).toBe(false);

      const dir = mkdtempSync(join(tmpdir(), 'iev-gst-'));
      try {
        const notACamera = join(dir, 'video0');
        writeFileSync(notACamera, '');
        expect((await failure(`v4l2src device=${notACamera} ! video/x-raw,width=16,height=16 ! appsink`))?.message).toMatch(
          new RegExp(`: ${notACamera.replace(/\//g, '\\/')} is no camera's video node: set CAMERA_PATH to one \\(v4l2-ctl --list-devices\\)$`),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each([
      // EACCES (the node's mode), EPERM (a container's device rules, as a device cgroup refusing 81:* gave).
      ['Permission denied', "the module may not open /dev/video0: run it in the group that owns it (video as a rule); in a container, pass it in with --device /dev/video0 (a deployment's createOptions HostConfig.Devices), not as a mounted volume, and add the host's gid of /dev/video0 to HostConfig.GroupAdd where the image's video group (44) is not it"],
      ['Operation not permitted', "the module may not open /dev/video0: run it in the group that owns it (video as a rule); in a container, pass it in with --device /dev/video0 (a deployment's createOptions HostConfig.Devices), not as a mounted volume, and add the host's gid of /dev/video0 to HostConfig.GroupAdd where the image's video group (44) is not it"],
      // A node left behind by a camera unplugged (a container's --device node; a stale one): ENXIO or ENODEV.
      ['No such device or address', '/dev/video0 went away (unplugged?): retried until it is back'],
      ['No such device', '/dev/video0 went away (unplugged?): retried until it is back'],
      ['Device or resource busy', 'another program has /dev/video0 open: stop it, or set CAMERA_PATH to another camera'],
    ])("a v4l2src camera it cannot open (%s): ffmpeg's V4L2 source's words for that reason", (reason, text) => {
      expect(gstreamerFailureAdvice('CAMERA_PATH')(unopenedCameraWords(reason), 0)).toEqual({ text, awaitsSettings: false });
    });

    it('a v4l2src camera it cannot open for another reason: GStreamer\'s words, the reason among them, not a guess', () => {
      const lastWords = unopenedCameraWords('Too many open files');

      expect(lastWords).toContain('system error: Too many open files');
      expect(gstreamerFailureAdvice('CAMERA_PATH')(lastWords, 0)).toBeUndefined();
    });

    // A video node with no camera behind it (open: ENXIO), as a container keeps the node --device passed in after its
    // camera is unplugged; made where this machine lets it (root with CAP_MKNOD, a temp dir that allows devices).
    const orphanNode = videoNodeWithoutCamera();
    afterAll(() => orphanNode && rmSync(orphanNode.dir, { recursive: true, force: true }));
    (orphanNode ? it : it.skip)(`a v4l2src camera node whose camera went away: retried, not told to change permissions${orphanNode ? '' : ' (skipped: no video node can be made here)'}`, async () => {
      const node = orphanNode?.node ?? '';
      const error = await failure(`v4l2src device=${node} ! video/x-raw,width=16,height=16 ! appsink`);

      expect(error?.message).toContain(`Could not open device '${node}' for reading and writing. | system error: No such device or address`);
      expect(error?.message).toMatch(new RegExp(`: ${node.replace(/\//g, '\\/')} went away \\(unplugged\\?\\): retried until it is back$`));
      expect(error?.awaitsSettings).toBe(false);
    });

    it("an element capture adds to the pipeline (videoconvert, of GStreamer's base plugins), not the setting's to correct", async () => {
      // A GStreamer with only its core elements and videotestsrc: the pipeline as given runs, what capture adds does not.
      const dir = mkdtempSync(join(tmpdir(), 'iev-gst-'));
      try {
        const pluginFile = (plugin: string) => /Filename\s+(\S+)/.exec(execFileSync('gst-inspect-1.0', [plugin], { encoding: 'utf8' }))?.[1] ?? '';
        mkdirSync(join(dir, 'plugins'));
        for (const plugin of ['coreelements', 'videotestsrc']) symlinkSync(pluginFile(plugin), join(dir, 'plugins', basename(pluginFile(plugin))));
        const gstLaunchPath = join(dir, 'gst-launch-1.0');
        writeFileSync(gstLaunchPath, `#!/bin/sh\nGST_PLUGIN_SYSTEM_PATH=${dir}/plugins GST_REGISTRY=${dir}/registry.bin exec gst-launch-1.0 "$@"\n`);
        chmodSync(gstLaunchPath, 0o755);
        const source = createFrameSource(resolveSource('videotestsrc ! video/x-raw,width=16,height=16 ! appsink'), { setting: 'CAMERA_PATH', gstLaunchPath });

        const error = await take(source, 1).then(() => undefined, (failure: VideoSourceError) => failure);

        expect(error?.message).toMatch(/no element "videoconvert": GStreamer has no element videoconvert, which capture adds to the pipeline to convert and scale its frames: install GStreamer's base plugins \(gstreamer1\.0-plugins-base;/);
        expect(error?.message).not.toContain('correct its name');
        expect(error?.awaitsSettings).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('says what to install when gst-launch-1.0 is missing', async () => {
    const source = new GstreamerPipelineSource({ pipeline: SAMPLE_WITH_TEST_SOURCE, gstLaunchPath: '/nonexistent/bin/gst-launch-1.0' });

    await expect(source.start()).rejects.toThrow(/cannot run \/nonexistent\/bin\/gst-launch-1.0 .*apt-get install gstreamer1.0-tools/);
  });
});

describe('GstreamerPipelineSource (real gst-launch-1.0, odd cases)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-gst-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable shell script in the test's directory. */
  function script(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, 0o755);
    return path;
  }

  it('cuts frames whose rows GStreamer pads to 4 bytes, giving that stride', async () => {
    for (const [width, stride] of [
      [30, 92],
      [31, 96],
    ]) {
      const frames = await take(new GstreamerPipelineSource({ pipeline: `videotestsrc pattern=red ! video/x-raw,width=${width},height=24 ! appsink` }), 3);

      for (const frame of frames) {
        expect(frame.header).toMatchObject({ width, height: 24, stride });
        expect(isUniformBgrFrame(frame, RED)).toBe(true);
      }
    }
  });

  it("keeps the aspect ratio for a lone side where the pipeline's caps do not say its size (a decoded file), as ffmpeg's sources do", async () => {
    // Left to itself, videoscale keeps the display's aspect by widening the pixels: 64x24 frames, text squashed.
    const picture = join(dir, 'blue-64x48.png');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=blue:size=64x48', '-frames:v', '1', picture]);

    const [frame] = await take(new GstreamerPipelineSource({ pipeline: `filesrc location=${picture} ! pngdec ! imagefreeze ! appsink`, height: 24 }), 1);

    expect(frame.header).toMatchObject({ width: 32, height: 24 });
    expect(isUniformBgrFrame(frame, [255, 0, 0])).toBe(true);
  });

  describe('a pipeline of non-square pixels (a decoded file whose display size gives their shape)', () => {
    /** The picture in Matroska (MJPEG, which GStreamer's good plugins decode), once. */
    const written = new Map<AnamorphicPicture, string>();
    const stored = (picture: AnamorphicPicture): string => {
      if (!written.has(picture)) {
        written.set(picture, join(dir, `${picture.stored.width}x${picture.stored.height}.mkv`));
        writeAnamorphicSquare(written.get(picture) as string, picture, 'matroska');
      }
      return written.get(picture) as string;
    };
    const decoded = (picture: AnamorphicPicture) => `filesrc location=${stored(picture)} ! decodebin ! appsink`;
    /** The same with caps that fix its stored size but leave the pixels' shape to the file. */
    const decodedAtStoredSize = (picture: AnamorphicPicture) => decoded(picture).replace('! appsink', `! video/x-raw,width=${picture.stored.width},height=${picture.stored.height} ! appsink`);

    it.each(ANAMORPHIC_PICTURES.flatMap((picture) => [decoded, decodedAtStoredSize].map((pipeline) => ({ picture, pipeline }))))(
      'hands on $picture.name at its displayed size, a square staying square ($pipeline.name)',
      async ({ picture, pipeline }) => {
        const [frame] = await take(new GstreamerPipelineSource({ pipeline: pipeline(picture) }), 1);

        expect(frame.header).toMatchObject(picture.displayed);
        const box = darkBox(frame);
        expect(Math.abs(box.width - box.height)).toBeLessThanOrEqual(2);
        expect(Math.abs(box.height - picture.displayed.height / 2)).toBeLessThanOrEqual(2);
      },
    );

    it('completes a lone side by the displayed aspect ratio, and keeps the size both sides ask for', async () => {
      const [ntsc] = ANAMORPHIC_PICTURES;

      const [lone] = await take(new GstreamerPipelineSource({ pipeline: decoded(ntsc), width: 80 }), 1);
      const [both] = await take(new GstreamerPipelineSource({ pipeline: decoded(ntsc), width: 100, height: 50 }), 1);

      expect(lone.header).toMatchObject({ width: 80, height: 60 });
      const box = darkBox(lone);
      expect(Math.abs(box.width - box.height)).toBeLessThanOrEqual(2);
      expect(both.header).toMatchObject({ width: 100, height: 50 });
    });
  });

  it('keeps the frames apart from what plugins print on stdout, as a Jetson\'s nvarguscamerasrc does', async () => {
    const gstLaunchPath = script('argus-gst-launch', '#!/bin/sh\necho "GST_ARGUS: Creating output stream"\nexec gst-launch-1.0 "$@"\n');

    const frames = await take(new GstreamerPipelineSource({ pipeline: RED_30_WIDE, gstLaunchPath }), 3);

    expect(frames.map((frame) => isUniformBgrFrame(frame, RED))).toEqual([true, true, true]);
  });

  it('fails when the negotiated size changes, instead of cutting the new frames at the old size', async () => {
    // Two red 16x16 pictures, then two blue 32x16 ones: a stream whose resolution changes. Multipart JPEG, as an HTTP
    // camera sends it, so that plugins-good's multipartdemux splits the pictures (jpegparse is in plugins-bad).
    const pictures = (colour: string, size: string) =>
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `color=${colour}:size=${size}`, '-frames:v', '2', '-f', 'mpjpeg', '-']);
    const mjpeg = join(dir, 'resized.mjpeg');
    writeFileSync(mjpeg, Buffer.concat([pictures('red', '16x16'), pictures('blue', '32x16')]));
    // identity spaces the pictures 0.1 s apart, as a camera's are: gst-launch prints the new caps from its main thread, so
    // in a burst they may be read after the first new frame (which would then be cut at the old size, and handed out).
    const pipeline = `filesrc location=${mjpeg} ! multipartdemux ! jpegdec ! identity sleep-time=100000 ! appsink`;
    const source = new GstreamerPipelineSource({ pipeline });
    const received: CapturedFrame[] = [];

    await expect(
      (async () => {
        for await (const frame of source.frames()) received.push(frame);
      })(),
    ).rejects.toThrow(`GStreamer pipeline "${pipeline}": frame size changed from 16x16 to 32x16`);
    expect(received.map((frame) => frame.header.width === 16 && isUniformBgrFrame(frame, RED))).toEqual([true, true]);
  });

  it('gives gst-launch 5 s to take the pipeline down on SIGINT before it kills it', async () => {
    // A gst-launch that writes a 2x2 frame once it listens for SIGINT, and then takes 2 s to stop, as an Argus camera may.
    const stoppedCleanly = join(dir, 'stopped-cleanly');
    const slowToStop = join(dir, 'slow-to-stop.js');
    writeFileSync(
      slowToStop,
      `if (process.argv.includes('--version')) process.exit(0);
      process.on('SIGINT', () => setTimeout(() => { require('node:fs').writeFileSync(${JSON.stringify(stoppedCleanly)}, ''); process.exit(0); }, 2000));
      require('node:fs').writeSync(3, Buffer.alloc(16));
      setInterval(() => undefined, 1000);`,
    );
    const gstLaunchPath = script('slow-gst-launch', `#!/bin/sh\nexec "${process.execPath}" "${slowToStop}" "$@"\n`);

    // Caps of square pixels: a size known before negotiation, as this gst-launch prints none.
    await take(new GstreamerPipelineSource({ pipeline: 'videotestsrc ! video/x-raw,width=2,height=2,pixel-aspect-ratio=1/1 ! appsink', gstLaunchPath }), 1);

    expect(existsSync(stoppedCleanly)).toBe(true);
  });

  it('masks passwords of the pipeline\'s elements in its label', () => {
    const source = new GstreamerPipelineSource({ pipeline: 'rtspsrc location=rtsp://10.0.0.2/ch1 user-id=admin user-pw=s3cret ! rtph264depay ! avdec_h264 ! appsink' });

    expect(source.label).toBe('GStreamer pipeline "rtspsrc location=rtsp://10.0.0.2/ch1 user-id=admin user-pw=*** ! rtph264depay ! avdec_h264 ! appsink"');
  });
});

describe('CAPTURE_FPS on a pipeline, which only drops (real gst-launch reading an HTTP MJPEG camera, its frames timed on arrival)', () => {
  const PICTURES = 30;
  const pictures = grayLevelJpegs(PICTURES);
  let camera: MultipartCamera | undefined;
  afterEach(async () => {
    await camera?.close();
    camera = undefined;
  });

  /**
   * From each frame of the first `count` a pipeline reading the camera hands on at CAPTURE_FPS=fps, the steps through
   * the camera's round of pictures to the next: 1 where none was skipped, 0 for a repeat.
   */
  async function stepsHandedOn(camera: { fps: number; framesAtOnce: number }, fps: number, count: number): Promise<number[]> {
    const { url } = await serve(camera);
    const pipeline = `souphttpsrc location=${url} is-live=true do-timestamp=true ! multipartdemux ! jpegdec ! appsink`;
    const places = (await take(new GstreamerPipelineSource({ pipeline, fps }), count)).map(({ pixels }) => grayLevelPicture(pixels));
    return places.slice(1).map((place, index) => (place - places[index] + PICTURES) % PICTURES);
  }
  const serve = async (options: { fps: number; framesAtOnce: number }) => (camera = await startMultipartCamera('ok', pictures, options));

  it('hands on each frame of a camera slower than the rate once (videorate repeated each up to the rate)', async () => {
    expect(await stepsHandedOn({ fps: 10, framesAtOnce: 1 }, 30, 12)).toEqual(Array(11).fill(1));
  });

  it('keeps nearly every frame of a camera at the rate whose frames come three at once, repeating none (videorate repeated some)', async () => {
    const steps = await stepsHandedOn({ fps: 30, framesAtOnce: 3 }, 30, 31);

    expect(steps.filter((step) => step === 0)).toEqual([]);
    // Loose: a bunch more than a quarter second early, on loaded cores, may lose a frame or two.
    expect(steps.reduce((lost, step) => lost + step - 1, 0)).toBeLessThanOrEqual(4);
  });

  it('holds a faster camera to the rate', async () => {
    const steps = await stepsHandedOn({ fps: 30, framesAtOnce: 1 }, 10, 16);

    // A third of a 30 fps camera's frames, after the first four the bucket starts with: 15 steps span 38 frames, 15
    // unlimited. Loose: arrival may bunch on loaded cores.
    expect(steps.reduce((sum, step) => sum + step, 0)).toBeGreaterThanOrEqual(30);
    // Frames over the rate are cut into one reused buffer: one handed on would repeat the last of them (and its steps
    // around the round of pictures pass the sum above).
    expect(steps.filter((step) => step === 0)).toEqual([]);
  });
});
