import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ColorMatrix, PixelFormat } from '@iev/frame-protocol';
import { freePort, freeRtpPort } from '@iev/testing';
import { pidsRunning, readUntilFailure, take, waitUntilListening } from '../test-support/decoders';
import { type RtspResponder, startRtspResponder } from '../test-support/rtsp-responder';
import type { FrameSource } from './frame-source';
import { createFrameSource, type FrameSourceOptions, resolveSource } from './resolve-source';
import { streamFailureAdvice } from './stream-failure-advice';
import { buildStreamArgs } from './stream-input';
import { buildTestPatternArgs } from './test-pattern-input';
import { v4l2FailureAdvice } from './v4l2-failure-advice';
import { buildV4l2Args } from './v4l2-input';

jest.setTimeout(20_000);

const COMMON_START = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+verbose'];
const RAW_BGR_TO_STDOUT = ['-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'];

describe('buildV4l2Args', () => {
  it('asks the camera for the format, size and rate, and enforces size and rate with filters', () => {
    expect(buildV4l2Args('/dev/video0', { inputFormat: 'mjpeg', width: 640, height: 480, fps: 15 })).toEqual([
      ...COMMON_START,
      ...['-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', '640x480', '-framerate', '15', '-thread_type', 'slice', '-i', '/dev/video0'],
      ...['-an', '-filter:v', "select='if(n*gte(t,ld(1)),st(0,min(4.75,ld(0)+(t-ld(1))*15));st(1,t),if(n*lt(ld(1)-t,1),0,st(0,1.25);st(1,t)));if(gte(ld(0),1),st(0,ld(0)-1);1,0)',scale=640:480"],
      ...RAW_BGR_TO_STDOUT,
    ]);
  });

  it('leaves the camera as it is set when nothing is asked, its pixels made square (a no-op where they are)', () => {
    expect(buildV4l2Args('/dev/video2', {})).toEqual([...COMMON_START, '-f', 'v4l2', '-thread_type', 'slice', '-i', '/dev/video2', '-an', '-filter:v', 'scale=round(iw*sar):ih', ...RAW_BGR_TO_STDOUT]);
  });

  it('asks no size of the camera for a lone width, and scales keeping the displayed aspect ratio', () => {
    const args = buildV4l2Args('/dev/video0', { inputFormat: 'yuyv422', width: 320 });

    expect(args).not.toContain('-video_size');
    expect(args.slice(args.indexOf('-input_format'), args.indexOf('-input_format') + 2)).toEqual(['-input_format', 'yuyv422']);
    expect(args[args.indexOf('-filter:v') + 1]).toBe('scale=320:round(320/dar)');
  });
});

describe('buildStreamArgs', () => {
  const inputOptions = (args: string[]) => args.slice(COMMON_START.length, args.indexOf('-i'));

  it('reads RTSP over TCP with a socket timeout by default', () => {
    expect(inputOptions(buildStreamArgs('rtsp://camera.local:554/stream1', {}))).toEqual(['-rtsp_transport', 'tcp', '-timeout', '10000000', '-thread_type', 'slice']);
  });

  it('uses -stimeout on ffmpeg 4, where RTSP\'s -timeout would make it listen for a connection', () => {
    expect(inputOptions(buildStreamArgs('rtsp://camera.local/stream1', { rtspTransport: 'udp', timeoutSeconds: 2.5, ffmpegMajorVersion: 4 }))).toEqual([
      ...['-rtsp_transport', 'udp', '-stimeout', '2500000', '-thread_type', 'slice'],
    ]);
  });

  it('gives HTTP and RTMP the generic I/O timeout', () => {
    for (const url of ['http://camera.local/video.mjpg', 'rtmp://server/live/key']) {
      expect(inputOptions(buildStreamArgs(url, { timeoutSeconds: 3 }))).toEqual(['-rw_timeout', '3000000', '-thread_type', 'slice']);
    }
  });

  it("counts an HTTP(S) stream's frames by the clock under CAPTURE_FPS (an MJPEG camera's carry no time), other streams by their own times", () => {
    const filters = (url: string) => {
      const args = buildStreamArgs(url, { fps: 5 });
      return args[args.indexOf('-filter:v') + 1].split(',').slice(0, 2);
    };

    for (const url of ['http://camera.local/video.mjpg', 'https://camera.local/live.ts']) expect(filters(url)).toEqual(['settb=AVTB', 'setpts=RTCTIME-RTCSTART']);
    for (const url of ['rtsp://camera.local/stream1', 'udp://0.0.0.0:5000', 'https://cdn.example/live/index.m3u8']) expect(filters(url)[0]).toMatch(/^select=/);
    expect(buildStreamArgs('http://camera.local/video.mjpg', {}).join(' ')).not.toContain('setpts');
    // The output in the filters' microseconds, not ffmpeg's 1/25 s guess for MJPEG; other streams keep their own.
    expect(buildStreamArgs('http://camera.local/video.mjpg', { fps: 5 }).join(' ')).toContain('-enc_time_base:v 1:1000000 -pix_fmt');
    expect(buildStreamArgs('rtsp://camera.local/stream1', { fps: 5 })).not.toContain('-enc_time_base:v');
  });

  it('reads an HTTP(S) stream as bare JPEGs where asked (CAPTURE_STREAM_FORMAT=mjpeg)', () => {
    expect(inputOptions(buildStreamArgs('https://camera.local/video.mjpg', { format: 'mjpeg', timeoutSeconds: 3 }))).toEqual(['-rw_timeout', '3000000', '-f', 'mjpeg', '-thread_type', 'slice']);
  });

  it("gives UDP its own timeout, as the generic one never ends a read nothing is sent to", () => {
    expect(inputOptions(buildStreamArgs('udp://0.0.0.0:5000', { timeoutSeconds: 3 }))).toEqual(['-timeout', '3000000', '-thread_type', 'slice']);
  });

  it('reads an HLS playlist at its own rate, and a stream that comes as it plays as it comes', () => {
    // A segment at once, faster than it plays: a live source keeps only its newest frame.
    for (const url of ['https://cdn.local/live/cam1.m3u8?token=abc', 'http://nvr.local/hls/index.M3U8#t=5', 'http://nvr.local/cam.m3u']) {
      expect(inputOptions(buildStreamArgs(url, { timeoutSeconds: 3 }))).toEqual(['-rw_timeout', '3000000', '-re', '-thread_type', 'slice']);
    }
    // As they play: -re would keep the seconds spent opening them as latency (go2rtc serves a live camera as stream.mp4).
    for (const url of ['http://camera.local/video.mjpg', 'http://camera.local/stream.flv', 'rtsp://camera.local/clip.mp4', 'http://go2rtc.local:1984/api/stream.mp4?src=door']) {
      expect(inputOptions(buildStreamArgs(url, {}))).not.toContain('-re');
    }
  });
});

describe('buildTestPatternArgs', () => {
  it('generates testsrc2 in real time at 640x480, 30 fps by default', () => {
    expect(buildTestPatternArgs({})).toEqual([...COMMON_START, '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30', '-an', ...RAW_BGR_TO_STDOUT]);
  });

  it('generates at the requested shape, as fast as it is read when not in real time', () => {
    expect(buildTestPatternArgs({ width: 320, fps: 5, realtime: false })).toContain('testsrc2=size=320x240:rate=5');
    expect(buildTestPatternArgs({ realtime: false })).not.toContain('-re');
  });
});

describe('V4L2 cameras (real ffmpeg)', () => {
  it('fails naming the camera, with ffmpeg\'s reason, when the device does not exist', async () => {
    const source = createFrameSource(resolveSource('/dev/video99'), { width: 640, height: 480 });

    await expect(take(source, 1)).rejects.toThrow(
      'ffmpeg failed reading V4L2 camera /dev/video99 (ffmpeg exited with code 1): Cannot open video device /dev/video99: No such file or directory',
    );
  });

  it('names the setting that chose a camera that is not plugged in', async () => {
    const source = createFrameSource(resolveSource('/dev/video99'), { setting: 'CAPTURE_SOURCES[1] CAMERA_PATH' });

    await expect(take(source, 1)).rejects.toThrow(/No such file or directory: no camera at \/dev\/video99: plug it in \(retried meanwhile\), or set CAPTURE_SOURCES\[1\] CAMERA_PATH to one this device has; in a container, pass it in with --device \/dev\/video99 \(a deployment's createOptions HostConfig\.Devices\)$/);
  });

  it('names the setting that chose a path that is no camera', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iev-v4l2-'));
    try {
      const notACamera = join(dir, 'camera');
      writeFileSync(notACamera, 'not a device');
      const source = createFrameSource(resolveSource(notACamera, 'v4l2'), { setting: 'CAMERA_PATH' });

      await expect(take(source, 1)).rejects.toThrow(/Inappropriate ioctl for device: .* is no camera's video node: set CAMERA_PATH to one \(v4l2-ctl --list-devices\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the setting that chose a camera another program holds (ffmpeg\'s words for EBUSY: no camera here to hold)', () => {
    const advice = v4l2FailureAdvice('/dev/video0', 'source')('[video4linux2,v4l2 @ 0x5581e7a72840] ioctl(VIDIOC_STREAMON): Device or resource busy | /dev/video0: Device or resource busy', 0);

    expect(advice?.text).toBe('another program has /dev/video0 open: stop it, or set source to another camera');
  });

  it("says what to do for ffmpeg's words on a camera it may not open, one unplugged, one without the format asked, and nothing for words it does not know", () => {
    const advise = v4l2FailureAdvice('/dev/video0', 'CAMERA_PATH', 'mjpeg');

    const notPermitted = "the module may not open /dev/video0: run it in the group that owns it (video as a rule); in a container, pass it in with --device /dev/video0 (a deployment's createOptions HostConfig.Devices), not as a mounted volume, and add the host's gid of /dev/video0 to HostConfig.GroupAdd where the image's video group (44) is not it";
    expect(advise('Cannot open video device /dev/video0: Permission denied', 0)?.text).toBe(notPermitted);
    // EPERM: ffmpeg 5.1's words in a device cgroup that refuses the camera's major (81), as a container's device rules
    // refuse a node mounted as a volume rather than passed with --device.
    expect(advise('Cannot open video device /dev/video0: Operation not permitted | /dev/video0: Operation not permitted', 0)?.text).toBe(notPermitted);
    expect(advise('ioctl(VIDIOC_DQBUF): No such device', 0)?.text).toBe('/dev/video0 went away (unplugged?): retried until it is back');
    expect(advise("Cannot find a proper format for codec 'mjpeg' (id 7), pixel format 'none' (id -1)", 0)?.text).toMatch(/^the camera does not offer mjpeg, which CAPTURE_V4L2_FORMAT asks for/);
    // Asked for none (auto), the camera's own format is one ffmpeg cannot read: no setting of ours to change.
    expect(v4l2FailureAdvice('/dev/video0', 'CAMERA_PATH')("Cannot find a proper format for codec 'h264' (id 27), pixel format 'none' (id -1)", 0)).toBeUndefined();
    expect(advise('Conversion failed!', 0)).toBeUndefined();
  });

  // Runs where a camera is plugged in (nx.json's "cameras" input keys the cached result on it), in its own format,
  // scaled to a size every camera can give.
  const hasCamera = existsSync('/dev/video0');
  (hasCamera ? it : it.skip)(`reads BGR frames of the requested size from /dev/video0${hasCamera ? '' : ' (skipped: no /dev/video0 on this machine)'}`, async () => {
    const frames = await take(createFrameSource(resolveSource('/dev/video0'), { width: 320, height: 240 }), 3);

    expect(frames.map(({ header }) => [header.width, header.height])).toEqual([[320, 240], [320, 240], [320, 240]]);
    // A camera is live: a frame not taken before the next arrived is dropped, so sequence numbers rise but may skip.
    const sequences = frames.map(({ header }) => header.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(frames[0].pixels.length).toBe(320 * 240 * 3);
  });
});

describe('test pattern (real ffmpeg)', () => {
  it('is what CAMERA_PATH=testsrc gives: moving frames at the requested size', async () => {
    const frames = await take(createFrameSource(resolveSource('testsrc'), { sourceId: 'demo', width: 64, height: 48, fps: 5, realtime: false }), 3);

    expect(frames.map(({ header }) => header)).toEqual(
      [0, 1, 2].map((sequence) => ({ sourceId: 'demo', sequence, captureTimeMs: expect.any(Number), width: 64, height: 48, stride: 192, pixelFormat: PixelFormat.BGR24 })),
    );
    expect(frames[1].pixels.equals(frames[0].pixels)).toBe(false);
  });

  it('decodes to I420 where asked, chroma rounded up on odd sides as the protocol lays it out', async () => {
    const [frame] = await take(createFrameSource(resolveSource('testsrc'), { width: 65, height: 49, realtime: false, pixelFormat: PixelFormat.I420 }), 1);

    expect(frame.header).toMatchObject({ width: 65, height: 49, stride: 65, pixelFormat: PixelFormat.I420 });
    // 65x49 of Y, then 33x25 of U and of V.
    expect(frame.pixels).toHaveLength(65 * 49 + 2 * 33 * 25);
  });
});

describe("a stream's colour matrix (real ffmpeg)", () => {
  const workDir = mkdtempSync(join(tmpdir(), 'ffmpeg-sources-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** An H.264 recording tagged as an HD camera's stream is (BT.709), or untagged; read as a stream URL (file:). */
  function h264Stream(name: string, tags: string[]): string {
    const path = join(workDir, name);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=128x72:rate=10', '-frames:v', '3', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', ...tags, path]);
    return `file:${path}`;
  }

  it('learns it from ffmpeg once the stream is open, for I420 frames; BGR24 ones are converted already', async () => {
    const url = h264Stream('hd.mp4', ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv']);

    const [i420] = await take(createFrameSource({ type: 'stream', url }, { pixelFormat: PixelFormat.I420 }), 1);
    const [bgr] = await take(createFrameSource({ type: 'stream', url }, { pixelFormat: PixelFormat.BGR24 }), 1);

    expect(i420.header).toMatchObject({ width: 128, height: 72, pixelFormat: PixelFormat.I420, colorMatrix: ColorMatrix.BT709 });
    expect(bgr.header).not.toHaveProperty('colorMatrix');
  });

  it('leaves it unsaid where the stream does not say it', async () => {
    const [frame] = await take(createFrameSource({ type: 'stream', url: h264Stream('untagged.mp4', []) }, { pixelFormat: PixelFormat.I420, width: 64, height: 36 }), 1);

    expect(frame.header).toMatchObject({ width: 64, height: 36, pixelFormat: PixelFormat.I420 });
    expect(frame.header).not.toHaveProperty('colorMatrix');
  });
});

describe('a stream whose frame size changes mid-stream (real ffmpeg)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'ffmpeg-sources-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** MPEG-TS of two encodings one after the other, as an encoder switched to another resolution sends it; read as a stream URL (file:). */
  function switchingStream(firstSize: string, secondSize: string): string {
    const encoded = [firstSize, secondSize].map((size, index) => {
      const path = join(workDir, `part${index}.ts`);
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-frames:v', '10', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', path]);
      return readFileSync(path);
    });
    const path = join(workDir, 'switching.ts');
    writeFileSync(path, Buffer.concat(encoded));
    return `file:${path}`;
  }

  /** The sizes of the frames the source hands on until it fails (a stream read from a file ends so), and the failure. */
  async function sizesUntilFailure(source: FrameSource): Promise<{ sizes: Set<string>; failure?: Error }> {
    const sizes = new Set<string>();
    try {
      for await (const { header } of source.frames()) sizes.add(`${header.width}x${header.height}`);
    } catch (error) {
      return { sizes, failure: error as Error };
    }
    return { sizes };
  }

  it('fails naming both sizes, rather than hand on frames squashed into the first (a restart reads the new one)', async () => {
    const url = switchingStream('160x120', '120x160');

    const { sizes, failure } = await sizesUntilFailure(createFrameSource({ type: 'stream', url }));

    expect(failure?.message).toBe(`stream ${url}: frame size changed from 160x120 to 120x160`);
    expect(sizes).toEqual(new Set(['160x120']));
  });

  it('keeps the size CAPTURE_WIDTH and CAPTURE_HEIGHT both ask for, the new picture scaled to it as the first was', async () => {
    const url = switchingStream('160x120', '120x160');

    const { sizes, failure } = await sizesUntilFailure(createFrameSource({ type: 'stream', url }, { width: 80, height: 60 }));

    expect(failure?.message).toMatch(/ended after \d+ frames \(ffmpeg exited with code 0\)/);
    expect(sizes).toEqual(new Set(['80x60']));
  });
});

/** Reads frames until the source fails, calling onFrame with each; resolves to the failure. */
describe('network streams (real ffmpeg HTTP server)', () => {
  const servers: ChildProcess[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.kill('SIGKILL');
  });

  /**
   * ffmpeg's own HTTP server (-listen 1) sending its test pattern live to one client: as multipart MJPEG, like an IP
   * camera's video.mjpg, or as MPEG-TS, like an encoder (which ffmpeg analyses for 5 s before the first frame).
   */
  async function startStreamServer(container: 'mjpeg' | 'mpegts' = 'mjpeg'): Promise<{ url: string; server: ChildProcess }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/${container === 'mjpeg' ? 'video.mjpg' : 'live.ts'}`;
    const pattern = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10'];
    const output = container === 'mjpeg' ? ['-c:v', 'mjpeg', '-f', 'mpjpeg'] : ['-f', 'mpegts'];
    const server = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...pattern, ...output, '-listen', '1', url], { stdio: 'ignore' });
    servers.push(server);
    await waitUntilListening(port);
    return { url, server };
  }

  it('decodes the stream into BGR frames, learning their size from ffmpeg', async () => {
    const { url } = await startStreamServer();

    const frames = await take(createFrameSource(resolveSource(url), { sourceId: 'camera0' }), 3);

    expect(frames.map(({ header }) => [header.sourceId, header.sequence, header.width, header.height])).toEqual([
      ['camera0', 0, 160, 120],
      ['camera0', 1, 160, 120],
      ['camera0', 2, 160, 120],
    ]);
    expect(frames[0].pixels).toHaveLength(160 * 120 * 3);
  });

  it('scales the stream inside ffmpeg to the requested size', async () => {
    const { url } = await startStreamServer();

    const [frame] = await take(createFrameSource(resolveSource(url), { width: 80, height: 44, fps: 5 }), 1);

    expect(frame.header).toMatchObject({ width: 80, height: 44, stride: 240 });
  });

  it('fails naming the stream when its server dies mid-stream, and leaves no ffmpeg behind', async () => {
    const { url, server } = await startStreamServer('mpegts');
    const source = createFrameSource(resolveSource(url));
    let received = 0;

    const failure = await readUntilFailure(source, () => {
      if (++received === 3) server.kill('SIGKILL');
    });

    expect(failure.message).toMatch(new RegExp(`^stream ${url} ended after \\d+ frames \\(ffmpeg exited with code 0\\): `));
    expect(received).toBeGreaterThanOrEqual(3);
    expect(pidsRunning('ffmpeg', url).filter((pid) => pid !== server.pid)).toEqual([]);
  });

  it("quotes no swscale warning about JPEG's full range when an MJPEG stream ends: the frames carry their range", async () => {
    const { url, server } = await startStreamServer('mjpeg');
    let received = 0;

    const failure = await readUntilFailure(createFrameSource(resolveSource(url)), () => {
      if (++received === 3) server.kill('SIGKILL');
    });

    expect(failure.message).toMatch(new RegExp(`^stream ${url} ended after \\d+ frames \\(ffmpeg exited with code 0\\): `));
    expect(failure.message).not.toContain('deprecated pixel format');
  });

  it('fails after the read timeout when the server goes silent', async () => {
    const { url, server } = await startStreamServer();
    const source = createFrameSource(resolveSource(url), { streamTimeoutSeconds: 1 });

    const failure = await readUntilFailure(source, ({ header }) => {
      if (header.sequence === 1) server.kill('SIGSTOP');
    });

    expect(failure.message).toMatch(new RegExp(`^stream ${url} ended after \\d+ frames \\(ffmpeg exited with code 0\\): .*Connection timed out`));
  });

  it('fails after the read timeout on a UDP stream nothing is sent to', async () => {
    const url = `udp://127.0.0.1:${await freePort()}`;
    const source = createFrameSource(resolveSource(url), { streamTimeoutSeconds: 1 });

    const failure = await readUntilFailure(source);

    expect(failure.message).toMatch(new RegExp(`^ffmpeg failed reading stream ${url} \\(ffmpeg exited with code 1\\): .*Input/output error`));
  });

  it('decodes an RTP stream (MPEG-TS over RTP, as encoders send it), which takes no timeout option', async () => {
    const url = `rtp://127.0.0.1:${await freeRtpPort()}`;
    servers.push(spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-c:v', 'mpeg2video', '-f', 'rtp_mpegts', url], { stdio: 'ignore' }));

    const frames = await take(createFrameSource(resolveSource(url), { sourceId: 'camera0', streamTimeoutSeconds: 3 }), 2);

    expect(frames.map(({ header }) => [header.width, header.height])).toEqual([
      [160, 120],
      [160, 120],
    ]);
  });

  it('fails with ffmpeg\'s reason when nothing listens, masking the password in the URL', async () => {
    const port = await freePort();
    const source = createFrameSource(resolveSource(`http://viewer:s3cret@127.0.0.1:${port}/video.mjpg`), { setting: 'CAMERA_PATH' });

    const failure = await readUntilFailure(source);

    expect(failure.message).toBe(
      `ffmpeg failed reading stream http://viewer:***@127.0.0.1:${port}/video.mjpg (ffmpeg exited with code 1): ` +
        `Connection to tcp://127.0.0.1:${port} failed: Connection refused | http://viewer:***@127.0.0.1:${port}/video.mjpg: Connection refused: ` +
        `nothing accepts connections at 127.0.0.1:${port}: the camera may be off or restarting (retried meanwhile), or CAMERA_PATH names the wrong host or port`,
    );
  });

  it('names the setting when the server has no stream at the path, retried as usual (a relay answers 404 until its camera connects)', async () => {
    const server = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cam/video.mjpg`;
      const failure = await readUntilFailure(createFrameSource(resolveSource(url), { setting: 'CAPTURE_SOURCES[1] CAMERA_PATH' }), () => undefined);

      expect(failure.message).toMatch(/404 Not Found: the server has no stream at that path: check the path in CAPTURE_SOURCES\[1\] CAMERA_PATH, or the stream is not published yet \(retried meanwhile\)$/);
      expect(failure).toMatchObject({ awaitsSettings: false });
    } finally {
      server.close();
    }
  });

  it('says an HTTP camera serving as many clients as it takes (503) is retried, as an RTSP one', async () => {
    const server = createServer((_request, response) => response.writeHead(503).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/video.mjpg`;
      const failure = await readUntilFailure(createFrameSource(resolveSource(url), { setting: 'CAMERA_PATH' }), () => undefined);

      expect(failure.message).toMatch(/HTTP error 503 Service Unavailable \| .*: 127\.0\.0\.1:\d+ takes no more clients now \(.*\): retried meanwhile; should it stay so, stop one, or share the camera through a relay \(MediaMTX, go2rtc\)$/);
      expect(failure).toMatchObject({ awaitsSettings: false });
    } finally {
      server.close();
    }
  });

  it('names the setting when the host name does not resolve', async () => {
    // .invalid never resolves (RFC 2606), with or without a network.
    const failure = await readUntilFailure(createFrameSource(resolveSource('rtsp://admin:s3cret@camera.invalid:8554/stream1'), { setting: 'CAMERA_PATH' }), () => undefined);

    expect(failure.message).toMatch(/Failed to resolve hostname camera\.invalid.*: camera\.invalid:8554 does not resolve: check the host name in CAMERA_PATH \(retried meanwhile, as a network coming up may not resolve it yet\)$/);
    expect(failure.message).not.toContain('s3cret');
  });
});

describe('RTSP failures (real ffmpeg, a minimal RTSP server on a real socket)', () => {
  let responder: RtspResponder | undefined;
  afterEach(() => responder?.close());

  /** How opening the responder's stream fails, as CAMERA_PATH with a password, or as userinfo gives it. */
  async function failureOf(behaviour: Parameters<typeof startRtspResponder>[0], options: FrameSourceOptions = {}, userinfo = 'viewer:s3cret@'): Promise<Error> {
    responder = await startRtspResponder(behaviour);
    const source = createFrameSource(resolveSource(responder.url(userinfo)), { setting: 'CAMERA_PATH', streamTimeoutSeconds: 1, ...options });
    const failure = await readUntilFailure(source);
    expect(failure.message).not.toContain('s3cret');
    return failure;
  }

  it('says a camera serving as many clients as it takes (503) is retried, and what holds them', async () => {
    const failure = await failureOf({ SETUP: '503 Service Unavailable' });

    expect(failure.message).toMatch(
      /method SETUP failed: 503 Service Unavailable \| .*: 127\.0\.0\.1:\d+ takes no more clients now \(a camera serves a few at once: other viewers, a recorder, or the session of one killed, until the camera times it out\): retried meanwhile; should it stay so, stop one, or share the camera through a relay \(MediaMTX, go2rtc\)$/,
    );
    expect(failure).toMatchObject({ awaitsSettings: false });
  });

  it.each(['503 Service unavailable', '453 Not Enough Bandwidth'])('tells a camera at its client limit by the code, whatever its words (%s)', async (status) => {
    const failure = await failureOf({ SETUP: status });

    expect(failure.message).toMatch(/: 127\.0\.0\.1:\d+ takes no more clients now \(.*\): retried meanwhile; should it stay so, stop one, or share the camera through a relay \(MediaMTX, go2rtc\)$/);
  });

  it('names the transport setting when the camera refuses the transport asked for (461), waiting for it to change', async () => {
    // gst-rtsp-server's own words for a factory that streams over UDP only.
    const overTcp = await failureOf({ SETUP: '461 Unsupported transport' });
    await responder?.close();
    const overUdp = await failureOf({ SETUP: '461 Unsupported transport' }, { rtspTransport: 'udp' });

    expect(overTcp.message).toMatch(/461 Unsupported transport.*: 127\.0\.0\.1:\d+ refuses RTSP over TCP, which CAPTURE_RTSP_TRANSPORT asks for: set it to udp$/);
    expect(overUdp.message).toMatch(/: 127\.0\.0\.1:\d+ refuses RTSP over UDP, which CAPTURE_RTSP_TRANSPORT asks for: set it to tcp$/);
    expect(overTcp).toMatchObject({ awaitsSettings: true });
  });

  it("names a CAPTURE_SOURCES entry's own transport and timeout, not the module's variables", () => {
    const advise = streamFailureAdvice('rtsp://127.0.0.1:8554/cam', 'CAPTURE_SOURCES[1] CAMERA_PATH', 'tcp');

    expect(advise('method SETUP failed: 461 Unsupported transport | rtsp://127.0.0.1:8554/cam: Protocol not supported', 0)?.text).toContain('which CAPTURE_SOURCES[1] CAPTURE_RTSP_TRANSPORT asks for');
    expect(advise('rtsp://127.0.0.1:8554/cam: Invalid data found when processing input', 0)?.text).toContain('said nothing for CAPTURE_SOURCES[1] CAPTURE_STREAM_TIMEOUT');
  });

  it("gives a stream that broke off mid-way no advice meant for one that never opened (no RTSP answer, a session just set up)", () => {
    const advise = streamFailureAdvice('rtsp://127.0.0.1:8554/cam', 'CAMERA_PATH');

    for (const lastWords of ['rtsp://127.0.0.1:8554/cam: Invalid data found when processing input', 'method PLAY failed: 454 Session Not Found']) {
      expect(advise(lastWords, 0)).toBeDefined();
      expect(advise(lastWords, 1200)).toBeUndefined();
    }
  });

  it('names the setting when the camera forbids the stream (403), waiting for it to change', async () => {
    const withUser = await failureOf({ DESCRIBE: '403 Forbidden' });
    await responder?.close();
    const withoutUser = await failureOf({ DESCRIBE: '403 Forbidden' }, {}, '');

    expect(withUser.message).toMatch(/403 Forbidden.*: the camera forbids that stream: check the path in CAMERA_PATH, and that the user it gives may view it \(the camera's user rights\)$/);
    expect(withoutUser.message).toMatch(/: the camera forbids that stream: check the path in CAMERA_PATH, and whether it takes a user and password \(rtsp:\/\/user:password@host\/\.\.\.\)$/);
    expect(withUser).toMatchObject({ awaitsSettings: true });
  });

  it('says a session the camera dropped as the stream opened (454) is retried', async () => {
    const failure = await failureOf({ PLAY: '454 Session Not Found' });

    expect(failure.message).toMatch(/method PLAY failed: 454 Session Not Found.*: 127\.0\.0\.1:\d+ dropped the session it had just set up \(as a camera or relay restarting does\): retried meanwhile$/);
    expect(failure).toMatchObject({ awaitsSettings: false });
  });

  it.each(['silent', 'close'] as const)('names the port to check when a server takes the connection and gives no RTSP answer (%s), retried', async (behaviour) => {
    const failure = await failureOf(behaviour);

    expect(failure.message).toMatch(
      /: Invalid data found when processing input: 127\.0\.0\.1:\d+ took the connection but gave no RTSP answer \(it closed it, or said nothing for CAPTURE_STREAM_TIMEOUT\): check that CAMERA_PATH names the camera's RTSP port \(554 unless set otherwise\); retried meanwhile$/,
    );
    expect(failure).toMatchObject({ awaitsSettings: false });
  });

  it('names the transport setting when no video comes over UDP (blocked on the way)', async () => {
    const failure = await failureOf({}, { rtspTransport: 'udp' });

    expect(failure.message).toMatch(/Could not find codec parameters.*: no video came from 127\.0\.0\.1:\d+ over UDP, which CAPTURE_RTSP_TRANSPORT asks for \(a firewall or NAT on the way may drop it\): retried meanwhile; set it to tcp$/);
    expect(failure).toMatchObject({ awaitsSettings: false });
  });
});
