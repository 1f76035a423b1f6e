import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ColorMatrix, epochMs, PixelFormat } from '@iev/frame-protocol';
import { isRunning, waitUntil } from '@iev/testing';
import { isUniformBgr, pidsRunning, take } from '../test-support/decoders';
import { parseCrop } from './crop';
import { VideoFileSource, type VideoFileSourceOptions } from './video-file-source';

jest.setTimeout(20_000);

const workDir = mkdtempSync(join(tmpdir(), 'capture-sources-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Encodes an ffmpeg lavfi source (which sets its own duration) into workDir/name. */
function makeVideo(name: string, lavfiSource: string, extraArgs: string[] = []): string {
  const path = join(workDir, name);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', lavfiSource, '-pix_fmt', 'yuv420p', ...extraArgs, path]);
  return path;
}

/** An MP4 whose header is intact but whose frames are cut off: ffprobe accepts it, decoding it fails. */
function makeTruncatedVideo(name: string): string {
  const whole = readFileSync(makeVideo(`whole-${name}`, 'testsrc2=size=320x240:rate=10:duration=1', ['-movflags', '+faststart']));
  let offset = 0;
  while (whole.toString('latin1', offset + 4, offset + 8) !== 'mdat') offset += whole.readUInt32BE(offset);
  const path = join(workDir, name);
  writeFileSync(path, whole.subarray(0, offset + 64));
  return path;
}

/** An H.264 MP4 whose middle third has every 211th byte flipped: ffmpeg decodes every frame, complaining as it goes. */
function makeDamagedVideo(name: string): string {
  const video = readFileSync(makeVideo(`intact-${name}`, 'testsrc2=size=320x240:rate=10:duration=4', ['-c:v', 'libx264', '-g', '10']));
  for (let offset = Math.floor(video.length / 3); offset < (2 * video.length) / 3; offset += 211) video[offset] ^= 0xff;
  const path = join(workDir, name);
  writeFileSync(path, video);
  return path;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VideoFileSource (real ffmpeg)', () => {
  const pattern = makeVideo('pattern.mp4', 'testsrc2=size=64x48:rate=10:duration=1');
  const red = makeVideo('red.mp4', 'color=c=red:size=32x24:rate=10:duration=1');
  const fastOnce: Partial<VideoFileSourceOptions> = { loop: false, realtime: false };

  it('decodes every frame of the file as BGR24 with a complete header, then ends', async () => {
    // The frames' own clock (epochMs), which follows the wall clock where it moves (seen on CI: 20 ms), as
    // performance.timeOrigin + performance.now() does not.
    const before = epochMs();
    const source = new VideoFileSource({ path: pattern, ...fastOnce });

    const frames = await take(source, Infinity);

    expect(frames).toHaveLength(10);
    expect(frames.map((frame) => frame.header.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const { header, pixels } of frames) {
      expect(header).toMatchObject({ sourceId: 'pattern.mp4', width: 64, height: 48, stride: 64 * 3, pixelFormat: PixelFormat.BGR24 });
      expect(pixels).toHaveLength(64 * 48 * 3);
      expect(header.captureTimeMs).toBeGreaterThanOrEqual(before);
      expect(header.captureTimeMs).toBeLessThanOrEqual(epochMs());
    }
    expect(source.stats).toEqual({ framesDecoded: 10, framesDropped: 0, bytesRead: 10 * 64 * 48 * 3, loops: 0 });
  });

  it('decodes to I420 where asked: half the bytes, a red video as BT.601 red (Y 81, U 90, V 240)', async () => {
    const frames = await take(new VideoFileSource({ path: red, pixelFormat: PixelFormat.I420, ...fastOnce }), Infinity);

    expect(frames).toHaveLength(10);
    const [{ header, pixels }] = frames;
    expect(header).toMatchObject({ width: 32, height: 24, stride: 32, pixelFormat: PixelFormat.I420 });
    expect(pixels).toHaveLength(32 * 24 * 1.5);
    const near = (plane: Buffer, value: number) => plane.every((sample) => Math.abs(sample - value) <= 2);
    expect([near(pixels.subarray(0, 768), 81), near(pixels.subarray(768, 960), 90), near(pixels.subarray(960), 240)]).toEqual([true, true, true]);
  });

  it("carries the file's colour matrix in the headers of I420 frames (BT.709, as HD video is tagged), and none where it says none", async () => {
    const hd = makeVideo('hd.mp4', 'testsrc2=size=128x72:rate=10:duration=0.3', ['-c:v', 'libx264', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709']);
    const sd = makeVideo('sd.mp4', 'testsrc2=size=128x72:rate=10:duration=0.3', ['-c:v', 'libx264', '-colorspace', 'smpte170m']);

    const [[hdFrame], [scaled], [sdFrame], [untagged], [bgr]] = await Promise.all([
      take(new VideoFileSource({ path: hd, pixelFormat: PixelFormat.I420, ...fastOnce }), 1),
      take(new VideoFileSource({ path: hd, pixelFormat: PixelFormat.I420, width: 64, ...fastOnce }), 1),
      take(new VideoFileSource({ path: sd, pixelFormat: PixelFormat.I420, ...fastOnce }), 1),
      take(new VideoFileSource({ path: pattern, pixelFormat: PixelFormat.I420, ...fastOnce }), 1),
      take(new VideoFileSource({ path: hd, pixelFormat: PixelFormat.BGR24, ...fastOnce }), 1),
    ]);

    expect([hdFrame, scaled, sdFrame].map(({ header }) => header.colorMatrix)).toEqual([ColorMatrix.BT709, ColorMatrix.BT709, ColorMatrix.BT601]);
    expect(scaled.header.width).toBe(64);
    expect(untagged.header).not.toHaveProperty('colorMatrix');
    expect(bgr.header).not.toHaveProperty('colorMatrix');
  });

  // ffmpeg 5.1 converts full range to limited on the way to yuv420p; 7.1 may leave it full, and says so.
  it('says the range of the I420 a full-range video (MJPEG, as webcams send) becomes: white is Y 235 of limited range, or 255 of full', async () => {
    // Later options win: the helper's yuv420p is replaced by MJPEG's full-range yuvj420p.
    const white = makeVideo('white.avi', 'color=c=white:size=32x24:rate=10:duration=0.3', ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p']);

    const [{ header, pixels }] = await take(new VideoFileSource({ path: white, pixelFormat: PixelFormat.I420, ...fastOnce }), 1);

    const whiteLuma = header.fullRange ? 255 : 235;
    expect(pixels.subarray(0, 32 * 24).every((luma) => luma === whiteLuma)).toBe(true);
  });

  it('delivers pixels in BGR order: a red video reads as (0, 0, 255)', async () => {
    const [frame] = await take(new VideoFileSource({ path: red, sourceId: 'camera0', ...fastOnce }), 1);

    expect(frame.header.sourceId).toBe('camera0');
    expect(isUniformBgr(frame.pixels, [0, 0, 255])).toBe(true);
  });

  it('loops past the end of the file with sequence numbers that keep counting', async () => {
    const source = new VideoFileSource({ path: pattern, realtime: false });

    const frames = await take(source, 25);

    expect(frames.map((frame) => frame.header.sequence)).toEqual([...Array(25).keys()]);
    // Each pass starts at the file's first frame again.
    expect(frames[10].pixels.equals(frames[0].pixels)).toBe(true);
    expect(frames[20].pixels.equals(frames[0].pixels)).toBe(true);
    expect(frames[1].pixels.equals(frames[0].pixels)).toBe(false);
    expect(source.stats.loops).toBe(2);
  });

  it('releases frames at the file rate in realtime mode, across loops too', async () => {
    const frames = await take(new VideoFileSource({ path: pattern }), 21);

    // 20 intervals at 10 fps span 2 s; only a lower bound, as a loaded machine may be slower.
    expect(frames[20].header.captureTimeMs - frames[0].header.captureTimeMs).toBeGreaterThanOrEqual(1800);
  });

  it('scales and drops frames inside ffmpeg to the requested size and rate', async () => {
    const frames = await take(new VideoFileSource({ path: pattern, width: 32, height: 20, fps: 5, ...fastOnce }), Infinity);

    expect(frames).toHaveLength(5);
    for (const { header, pixels } of frames) {
      expect(header).toMatchObject({ width: 32, height: 20, stride: 96 });
      expect(pixels).toHaveLength(32 * 20 * 3);
    }
  });

  it('limits the rate only: a file slower than the requested rate (a camera at night) has each frame handed on once, not repeated', async () => {
    const slow = makeVideo('slow.mp4', 'testsrc2=size=64x48:rate=5:duration=2');

    const frames = await take(new VideoFileSource({ path: slow, fps: 10, ...fastOnce }), Infinity);

    expect(frames).toHaveLength(10);
    expect(frames.filter((frame, index) => index > 0 && frame.pixels.equals(frames[index - 1].pixels))).toEqual([]);
  });

  it('hands on every frame of a file at the requested rate, its times rounded to the millisecond (Matroska, FLV)', async () => {
    const atRate = makeVideo('at-rate.mkv', 'testsrc2=size=64x48:rate=30:duration=2');

    expect(await take(new VideoFileSource({ path: atRate, fps: 30, ...fastOnce }), Infinity)).toHaveLength(60);
    expect(await take(new VideoFileSource({ path: atRate, fps: 10, ...fastOnce }), Infinity)).toHaveLength(20);
  });

  it('counts the loops of a file slower than the requested rate by its own frames', async () => {
    const source = new VideoFileSource({ path: pattern, fps: 20, realtime: false });

    await take(source, 25);

    expect(source.stats.loops).toBe(2);
  });

  it('warns once, naming the file and both sizes, of a resolution that changes mid-file, and plays on at the first size', async () => {
    const first = makeVideo('small.ts', 'testsrc2=size=64x48:rate=10:duration=1', ['-c:v', 'libx264']);
    const second = makeVideo('large.ts', 'testsrc2=size=96x54:rate=10:duration=1', ['-c:v', 'libx264']);
    const changing = join(workDir, 'changing.ts');
    writeFileSync(changing, Buffer.concat([readFileSync(first), readFileSync(second)]));
    const warnings: string[] = [];

    // Looped once: the change back to the first size at the loop is no news.
    const frames = await take(new VideoFileSource({ path: changing, realtime: false, onWarning: (message) => warnings.push(message) }), 40);

    expect(frames.map(({ header }) => `${header.width}x${header.height}`)).toEqual(Array(40).fill('64x48'));
    expect(warnings).toEqual([
      `${changing}: frame size changed mid-file from 64x48 to 96x54; its frames stay 64x48, those after the change stretched to it (restarting would play the file from its start)`,
    ]);
  });

  it('keeps the aspect ratio when only the width is given', async () => {
    const [frame] = await take(new VideoFileSource({ path: pattern, width: 32, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 32, height: 24 });
  });

  it('reports the size of a rotated video as it is displayed', async () => {
    const rotated = join(workDir, 'rotated.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', pattern, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);

    const [frame] = await take(new VideoFileSource({ path: rotated, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 48, height: 64 });
  });

  it('widens an anamorphic video (pixels wider than tall) to the shape it is displayed at', async () => {
    // HDV's 1440x1080 shown at 16:9, in small: 48x48 stored, each pixel 4:3, displayed 64x48.
    const anamorphic = makeVideo('anamorphic.mp4', 'color=c=red:size=48x48:rate=10:duration=1', ['-vf', 'setsar=4/3']);

    const [frame] = await take(new VideoFileSource({ path: anamorphic, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 64, height: 48 });
  });

  it('turns an anamorphic video, then widens the side its pixels are wide along', async () => {
    const stored = makeVideo('anamorphic-stored.mp4', 'color=c=red:size=48x48:rate=10:duration=1', ['-vf', 'setsar=4/3']);
    const anamorphic = join(workDir, 'anamorphic-turned.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', anamorphic]);

    const [frame] = await take(new VideoFileSource({ path: anamorphic, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 48, height: 64 });
  });

  // ffmpeg turns such a file before the crop, into 48x48 at 3:4 (36x48 in its square pixels): a crop in pixels of the
  // 48x64 the file is checked against at start-up was read in those, the whole picture asking for 64 of 48 columns.
  it('crops a turned anamorphic video in the pixels of the picture it is displayed as, 48x64', async () => {
    const stored = makeVideo('anamorphic-crop-stored.mp4', 'color=c=red:size=48x48:rate=10:duration=1', ['-vf', 'drawbox=x=0:y=24:w=48:h=24:color=blue:t=fill,setsar=4/3']);
    const anamorphic = join(workDir, 'anamorphic-crop-turned.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', anamorphic]);
    const cropped = (text: string) => take(new VideoFileSource({ path: anamorphic, crop: parseCrop(text, 'CAPTURE_CROP'), ...fastOnce }), 1);

    const [whole] = await cropped('0,0,48,64');
    // Turned a quarter anticlockwise, the stored bottom half (blue) is the displayed right half: 24 of 48 columns.
    const [right] = await cropped('24,0,24,64');

    expect(whole.header).toMatchObject({ width: 48, height: 64 });
    expect(right.header).toMatchObject({ width: 24, height: 64 });
    expect(isUniformBgr(right.pixels, [255, 0, 0])).toBe(true);
  });

  it("reads a picture at its stored size whatever pixel shape its JPEG header gives, as browsers and the CLI (sharp) do", async () => {
    const picture = join(workDir, 'wide pixels.jpg');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:size=48x48', '-vf', 'setsar=4/3', '-frames:v', '1', '-update', '1', picture]);

    const [frame] = await take(new VideoFileSource({ path: picture, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 48, height: 48 });
  });

  it("decodes the first video stream of a file that holds two, at its own size, not the larger one ffmpeg would pick", async () => {
    const blue = makeVideo('blue.mp4', 'color=c=blue:size=64x48:rate=10:duration=1');
    const both = join(workDir, 'two streams.mkv');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', red, '-i', blue, '-map', '0:v', '-map', '1:v', '-c', 'copy', both]);

    const frames = await take(new VideoFileSource({ path: both, ...fastOnce }), Infinity);

    expect(frames).toHaveLength(10);
    expect(frames[0].header).toMatchObject({ width: 32, height: 24 });
    expect(isUniformBgr(frames[0].pixels, [0, 0, 255])).toBe(true);
  });

  it("hands on each frame of a variable-rate file once, where ffmpeg's constant rate would repeat some", async () => {
    // 20 frames, the second ten twice as far apart as the first.
    const variable = makeVideo('variable.mp4', 'testsrc2=size=64x48:rate=10:duration=2', ['-vf', "setpts='if(lt(N,10),N,2*N-10)/10/TB'", '-fps_mode', 'vfr']);

    expect(await take(new VideoFileSource({ path: variable, ...fastOnce }), Infinity)).toHaveLength(20);
  });

  it('loops a picture read by name (a JPEG), whose demuxer ignores -stream_loop, and reads one with `%` in its name', async () => {
    const picture = join(workDir, 'sign 100%d.jpg');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', '-update', '1', picture]);

    const frames = await take(new VideoFileSource({ path: picture, realtime: false }), 5);

    expect(frames.map((frame) => frame.header.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(frames[4].pixels.equals(frames[0].pixels)).toBe(true);
  });

  it('reads files in the working directory by names ffmpeg would take for a protocol (`10:00:00.mp4`) or an option (`-clip.mp4`), and `..` after a symbolic link as the system does', async () => {
    const picture = join(workDir, 'door:1.png');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', picture]);
    makeVideo('10:00:00.mp4', 'testsrc2=size=64x48:rate=10:duration=1');
    makeVideo('-clip.mp4', 'testsrc2=size=64x48:rate=10:duration=1');
    const startedIn = process.cwd();
    process.chdir(workDir);
    try {
      for (const name of ['10:00:00.mp4', '-clip.mp4']) expect(await take(new VideoFileSource({ path: name, ...fastOnce }), Infinity)).toHaveLength(10);
      expect(await take(new VideoFileSource({ path: 'door:1.png', realtime: false }), 2)).toHaveLength(2);
      // `..` after a symbolic link is the link target's parent, as the system reads it, not the link's folder.
      mkdirSync(join(workDir, 'recordings', 'today'), { recursive: true });
      symlinkSync(join(workDir, 'recordings', 'today'), join(workDir, 'today'));
      makeVideo(join('recordings', 'gate.mp4'), 'testsrc2=size=64x48:rate=10:duration=1');
      for (const path of ['today/../gate.mp4', `${workDir}/today/../gate.mp4`]) expect(await take(new VideoFileSource({ path, ...fastOnce }), Infinity)).toHaveLength(10);
    } finally {
      process.chdir(startedIn);
    }
  });

  it('refuses an audio file whose only picture is its cover: no video to read', async () => {
    const cover = join(workDir, 'cover.png');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:size=32x32', '-frames:v', '1', cover]);
    const song = join(workDir, 'song.m4a');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', '-i', cover, '-map', '0:a', '-map', '1:v', '-c:a', 'aac', '-c:v', 'png', '-disposition:v', 'attached_pic', song]);

    await expect(new VideoFileSource({ path: song, ...fastOnce }).start()).rejects.toThrow(`no video stream in ${song} (only a cover picture)`);
  });

  it('reads frames from a unix socket ffmpeg listens on, in a directory of its own removed once connected', async () => {
    const source = new VideoFileSource({ path: pattern, ...fastOnce });
    await source.start();
    const [pid] = pidsRunning('ffmpeg', pattern);
    const output = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).pop() ?? '';
    expect(output).toMatch(/^unix:.*\/frames\.sock$/);
    const directory = dirname(output.slice('unix:'.length));
    for (let waited = 0; existsSync(directory) && waited < 2000; waited += 20) await sleep(20);
    expect(existsSync(directory)).toBe(false);

    expect(await take(source, Infinity)).toHaveLength(10);
  });

  it("reads ffmpeg's stdout where no socket can be made (a TMPDIR too long for one)", () => {
    // Not a TMPDIR that is not there: the child's ts-node makes it (v8-compile-cache), and ffmpeg's socket went there.
    const longTmpdir = mkdtempSync(join(tmpdir(), `iev-${'x'.repeat(100)}-`));
    const readAll = `
      const { VideoFileSource } = require('./libs/capture-sources/src');
      (async () => {
        let frames = 0;
        for await (const _ of new VideoFileSource({ path: process.argv[1], loop: false, realtime: false }).frames()) frames++;
        console.log(String(frames)); // a string: a number would be coloured where FORCE_COLOR is set (nx sets it)
      })();`;

    let printed: string;
    try {
      printed = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', readAll, pattern], {
        cwd: join(__dirname, '../../../..'),
        env: { ...process.env, TS_NODE_PROJECT: 'libs/capture-sources/tsconfig.spec.json', TMPDIR: longTmpdir },
        encoding: 'utf8',
      });
    } finally {
      rmSync(longTmpdir, { recursive: true, force: true });
    }

    expect(printed.trim()).toBe('10');
  });

  it('pauses ffmpeg instead of buffering when the consumer does not read', async () => {
    const source = new VideoFileSource({ path: pattern, realtime: false });
    try {
      await source.start();
      // Once ffmpeg is up and the source has cut the frames it reads ahead (a loaded machine takes its time), and settled.
      await waitUntil(() => source.stats.framesDecoded >= 2, 'the frames read ahead', { timeoutMs: 10_000 });
      await sleep(300);
      const held = source.stats.bytesRead;
      await sleep(300);

      // Unchecked, ffmpeg would have produced thousands of these 9 kB frames by now.
      expect(source.stats.bytesRead).toBe(held);
      expect(held).toBeLessThan(100 * 64 * 48 * 3);
      const [pid] = pidsRunning('ffmpeg', pattern);
      await source.stop();
      expect(isRunning(pid)).toBe(false);
    } finally {
      await source.stop(); // a failure above must not leave ffmpeg running: it would fail the next tests, and keep jest from exiting
    }
  });

  it('stop() ends ffmpeg and resolves once it is gone', async () => {
    const source = new VideoFileSource({ path: pattern });
    const iterator = source.frames()[Symbol.asyncIterator]();
    await iterator.next();
    const pids = pidsRunning('ffmpeg', pattern);
    expect(pids).toHaveLength(1);

    await source.stop();

    expect(isRunning(pids[0])).toBe(false);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('leaving the frames() loop stops ffmpeg', async () => {
    const source = new VideoFileSource({ path: pattern });
    let pid = 0;
    for await (const _frame of source.frames()) {
      [pid] = pidsRunning('ffmpeg', pattern);
      break;
    }

    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('kills ffmpeg when the Node process exits without stopping the source', () => {
    // At 1 fps ffmpeg writes once a second, so without the exit hook it would outlive its parent until its next write fails.
    const slow = makeVideo('slow.mp4', 'testsrc2=size=64x48:rate=1:duration=5');
    const exitWithoutStop = `
      const { VideoFileSource } = require('./libs/capture-sources/src');
      new VideoFileSource({ path: process.argv[1] }).start().then(() => process.exit(0));`;

    execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', exitWithoutStop, slow], {
      cwd: join(__dirname, '../../../..'),
      env: { ...process.env, TS_NODE_PROJECT: 'libs/capture-sources/tsconfig.spec.json' },
    });

    expect(pidsRunning('ffmpeg', slow)).toEqual([]);
  });

  it('reports a missing file by name, before starting ffmpeg', async () => {
    const source = new VideoFileSource({ path: join(workDir, 'no-such-clip.mp4') });

    await expect(take(source, 1)).rejects.toThrow(`video file not found: ${join(workDir, 'no-such-clip.mp4')}`);
  });

  it('says a file is empty rather than quote what ffprobe makes of it', async () => {
    const empty = join(workDir, 'empty.mp4');
    writeFileSync(empty, '');

    await expect(take(new VideoFileSource({ path: empty }), 1)).rejects.toThrow(`video file ${empty} is empty`);
  });

  it('reports a file that is not a video with ffprobe\'s reason', async () => {
    const notes = join(workDir, 'notes.txt');
    writeFileSync(notes, 'these are not frames\n');

    await expect(new VideoFileSource({ path: notes }).start()).rejects.toThrow(
      new RegExp(`^cannot read video file ${notes}: .*Invalid data found when processing input$`),
    );
  });

  it('rejects the frames with ffmpeg\'s last words when decoding fails', async () => {
    const truncated = makeTruncatedVideo('truncated.mp4');

    await expect(take(new VideoFileSource({ path: truncated, ...fastOnce }), Infinity)).rejects.toThrow(
      new RegExp(`^ffmpeg failed reading ${truncated} \\(ffmpeg exited with code 1\\): .*Error marking filters as finished$`),
    );
    expect(pidsRunning('ffmpeg', truncated)).toEqual([]);
  });

  it('refuses a lone side that would make frames over 16384 a side, naming their size, before ffmpeg fails on them', async () => {
    const wide = makeVideo('wide.mp4', 'color=c=red:size=400x20:rate=10:duration=0.3');

    await expect(take(new VideoFileSource({ path: wide, height: 16_384, framesSent: true, ...fastOnce }), 1)).rejects.toThrow(
      `${wide}: frames of 327680x16384 are larger than 16384 a side, the most a frame may be: ask for a smaller size (CAPTURE_WIDTH, CAPTURE_HEIGHT)`,
    );
  });

  it('reads a picture wider than 16384 where its frames are not sent on (the CLI)', async () => {
    const wide = join(workDir, 'wide.bmp');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:size=20000x64', '-frames:v', '1', wide]);

    const [frame] = await take(new VideoFileSource({ path: wide, ...fastOnce }), 1);

    expect(frame.header).toMatchObject({ width: 20_000, height: 64 });
  });

  it('quotes the size ffmpeg refuses to make, from its error under a nested component tag', async () => {
    // "[rawvideo @ 0x...] [IMGUTILS @ 0x...] [error] Picture size 16384x16384 is invalid": the one line naming the size.
    await expect(take(new VideoFileSource({ path: pattern, width: 16_384, height: 16_384, ...fastOnce }), 1)).rejects.toThrow(
      new RegExp(`^ffmpeg failed reading ${pattern} \\(ffmpeg exited with code 1\\): Picture size 16384x16384 is invalid \\| `),
    );
  });

  it("hands on the decoder's warnings and errors as frames flow, and none for an intact file", async () => {
    const damaged = makeDamagedVideo('damaged.mp4');
    const heard: string[] = [];

    const frames = await take(new VideoFileSource({ path: damaged, onDecoderMessage: (message) => heard.push(message), ...fastOnce }), Infinity);
    const intact: string[] = [];
    await take(new VideoFileSource({ path: pattern, onDecoderMessage: (message) => intact.push(message), ...fastOnce }), Infinity);

    expect(frames.length).toBeGreaterThan(30);
    expect(heard.length).toBeGreaterThan(0);
    // ffmpeg's own line, without its component prefix and level ("[h264 @ 0x...] [error] ").
    for (const message of heard) expect(message).not.toMatch(/^\[|\[(warning|error)\]/);
    expect(intact).toEqual([]);
  });

  it("hands on nothing ffmpeg says as it is stopped, as when a terminal's Ctrl-C reaches it beside the module", async () => {
    const heard: string[] = [];
    const source = new VideoFileSource({ path: pattern, loop: true, realtime: false, onDecoderMessage: (message) => heard.push(message) });
    const frames = source.frames();
    await frames.next();
    // Frames are left untaken, so ffmpeg is blocked writing when the signal comes: it says the write was cut short.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [ffmpeg] = pidsRunning('ffmpeg', pattern);

    process.kill(ffmpeg, 'SIGINT');
    await source.stop();
    await frames.return(undefined);

    expect(heard).toEqual([]);
    expect(pidsRunning('ffmpeg', pattern)).toEqual([]);
  });

  it('says what to install when ffmpeg is missing', async () => {
    const source = new VideoFileSource({ path: pattern, ffmpegPath: '/nonexistent/bin/ffmpeg' });

    await expect(source.start()).rejects.toThrow(/cannot run \/nonexistent\/bin\/ffmpeg .*apt-get install ffmpeg/);
  });

  it('refuses options that cannot describe a frame', () => {
    expect(() => new VideoFileSource({ path: pattern, width: 0 })).toThrow('width must be a positive integer, got 0');
    expect(() => new VideoFileSource({ path: pattern, fps: -1 })).toThrow('fps must be a positive number, got -1');
  });
});
