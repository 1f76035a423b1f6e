import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '@iev/service-runtime';
import type { Frame } from '@iev/frame-protocol';
import pino from 'pino';
import { take } from '../test-support/decoders';
import { npmBinary, NPM_FFMPEG } from './ffmpeg-location';
import { prepareSource } from './prepare-source';
import { SourceSupervisor } from './source-supervisor';

jest.setTimeout(20_000);

const settings = (source: string) => ({ source, fps: 0, width: 0, height: 0, crop: '' });

describe('prepareSource', () => {
  it('refuses a GStreamer pipeline capture cannot run, naming the setting and the problem', async () => {
    await expect(prepareSource(settings('videotestsrc ! fakesink'), {}, { setting: 'CAMERA_PATH' })).rejects.toThrow(
      'CAMERA_PATH is not a pipeline capture can run: GStreamer pipeline must end in appsink (or in the element that makes the frames), not fakesink',
    );
    await expect(prepareSource(settings('videotestsrc ! textoverlay text="open ! appsink'), {}, { setting: 'CAMERA_PATH' })).rejects.toThrow('GStreamer pipeline has an unclosed "');
  });

  it("refuses a stream's host name where the ffmpeg in use crashes looking names up (npm's static 4.1), naming the setting; takes an address, and any name with a working ffmpeg", async () => {
    const npmFfmpeg = npmBinary(NPM_FFMPEG) as string;

    await expect(prepareSource(settings('rtsp://viewer:s3cret@camera.invalid:8554/stream1'), { ffmpegPath: npmFfmpeg }, { setting: 'CAMERA_PATH' })).rejects.toThrow(
      /^CAMERA_PATH: camera\.invalid is a host name, and ffmpeg .* crashes looking names up \(as the static ffmpeg 4\.1 npm installs does\): install ffmpeg 5 or later/,
    );
    await expect(prepareSource(settings('rtsp://viewer:s3cret@192.168.1.64/stream1'), { ffmpegPath: npmFfmpeg }, { setting: 'CAMERA_PATH' })).resolves.toBeDefined();
    await expect(prepareSource(settings('rtsp://camera.invalid:8554/stream1'), { ffmpegPath: 'ffmpeg' }, { setting: 'CAMERA_PATH' })).resolves.toBeDefined();
  });

  it('takes the short IPv4 forms getaddrinfo reads as addresses (127.1, 2130706433, 0x7f.1) with the ffmpeg that crashes on names, and not what it reads as names', async () => {
    const npmFfmpeg = npmBinary(NPM_FFMPEG) as string;

    for (const host of ['127.1', '2130706433', '0x7f.1', '0177.0.0.1', '127.256']) {
      await expect(prepareSource(settings(`rtsp://${host}:8554/stream1`), { ffmpegPath: npmFfmpeg }, { setting: 'CAMERA_PATH' })).resolves.toBeDefined();
    }
    // Each crashed that ffmpeg: a trailing dot, a part out of range, 8 in an octal part, a bare 0x.
    for (const host of ['127.1.', '1.16777216', '08.0.0.1', '0x.1']) {
      await expect(prepareSource(settings(`rtsp://${host}:8554/stream1`), { ffmpegPath: npmFfmpeg }, { setting: 'CAMERA_PATH' })).rejects.toThrow(`CAMERA_PATH: ${host} is a host name`);
    }
  });

  it('says a video file is not there, naming the setting, and the file once also as the log writes the error (with its causes)', async () => {
    const refused: unknown = await prepareSource(settings('/nonexistent/clip.mp4'), {}, { setting: 'CAMERA_PATH' }).catch((error: unknown) => error);

    expect(pino.stdSerializers.err(refused as Error).message).toBe('CAMERA_PATH: video file not found: /nonexistent/clip.mp4');
  });

  it('says a numbered image sequence (`frames/%04d.png`, as ffmpeg names one) is not read, and how to read its pictures', async () => {
    const refused = prepareSource(settings('/recordings/frames/f%04d.png'), {}, { setting: 'CAMERA_PATH' });

    await expect(refused).rejects.toThrow(
      "CAMERA_PATH: video file not found: /recordings/frames/f%04d.png (a numbered image sequence is not read, its % taken as part of a name: make a video of its pictures, ffmpeg -i '/recordings/frames/f%04d.png' pictures.mp4)",
    );
  });

  it('says no more than "not found" for a missing file whose name only has a % in it (100%done.mp4)', async () => {
    const refused = prepareSource(settings('/recordings/100%done.mp4'), {}, { setting: 'CAMERA_PATH' });

    await expect(refused).rejects.toThrow(/^CAMERA_PATH: video file not found: \/recordings\/100%done\.mp4$/);
  });

  it('says a file that is no video cannot be read, naming the setting and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prepare-source-'));
    try {
      const notVideo = join(dir, 'notes.mp4');
      writeFileSync(notVideo, 'a text file renamed .mp4\n');
      const refused: unknown = await prepareSource(settings(notVideo), {}, { setting: 'CAPTURE_SOURCES[1] CAMERA_PATH' }).catch((error: unknown) => error);

      expect((refused as Error).message).toMatch(new RegExp(`^CAPTURE_SOURCES\\[1\\] CAMERA_PATH: cannot read video file ${notVideo}: .*Invalid data found when processing input$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a twin patch to a camera that is not there, naming the setting', async () => {
    await expect(prepareSource(settings('/dev/video96'), {}, { setting: 'source', requireCamera: true })).rejects.toThrow(/^source: camera \/dev\/video96 does not exist on this device; in a container, pass it in with --device \/dev\/video96 \(a deployment's createOptions HostConfig\.Devices\)$/);
  });

  it('rejects a twin switch to a bad pipeline before the running source is touched (real gst-launch-1.0)', async () => {
    const working = await prepareSource(settings('videotestsrc pattern=red ! video/x-raw,width=16,height=16 ! appsink'), {}, { setting: 'CAMERA_PATH' });
    const supervisor = new SourceSupervisor(working.create, { failFastBeforeFirstFrame: true, backoff: new Backoff(50, 400, 0) });
    const frames = supervisor.frames();
    const next = async (): Promise<Frame> => (await frames.next()).value as Frame;
    try {
      await next();
      // As the capture module applies a twin change: prepared first, switched to only once that succeeded.
      const applied = prepareSource(settings('videotestsrc ! fakesink'), {}, { setting: 'source', requireCamera: true }).then((prepared) => supervisor.switchSource(prepared));

      await expect(applied).rejects.toThrow('source is not a pipeline capture can run');
      // Still the working pipeline's frames (a switch to the refused one would deliver none).
      expect([(await next()).width, (await next()).width]).toEqual([16, 16]);
      expect(supervisor.state).toBe('streaming');
    } finally {
      await supervisor.stop();
      await frames.return(undefined);
    }
  });

  describe('a camera that asks for a user and password (real ffmpeg, a real HTTP server answering 401)', () => {
    let cameraUrl: (credentials: string) => string;
    let close: () => void;
    beforeAll(async () => {
      const camera = createServer((_, response) => {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="camera"', 'Content-Length': '0' });
        response.end();
      });
      await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
      cameraUrl = (credentials) => `http://${credentials}127.0.0.1:${(camera.address() as AddressInfo).port}/video.mjpg`;
      close = () => camera.close();
    });
    afterAll(() => close());

    const failureOf = async (url: string): Promise<string> => {
      const { create } = await prepareSource(settings(url), {}, { setting: 'CAMERA_PATH' });
      return take(create(), 1).then(
        () => 'no failure',
        (error: Error) => error.message,
      );
    };

    it('names the setting whose password was refused, the password masked', async () => {
      const message = await failureOf(cameraUrl('viewer:wr0ng@'));

      expect(message).toMatch(/401 Unauthorized.*: the camera refused the user and password in CAMERA_PATH$/);
      expect(message).toContain('viewer:***@');
      expect(message).not.toContain('wr0ng');
    });

    it('names the setting that gives none', async () => {
      expect(await failureOf(cameraUrl(''))).toMatch(/401 Unauthorized.*: the camera asks for a user and password, and CAMERA_PATH gives none \(http:\/\/user:password@host\/\.\.\.\)$/);
    });

    it('does not say a URL gives none where it may give them in its query, as some cameras take them', async () => {
      const message = await failureOf(`${cameraUrl('')}?user=viewer&pwd=wr0ng`);

      expect(message).toMatch(/401 Unauthorized.*: the camera refused the request: check the user and password CAMERA_PATH gives \(http:\/\/user:password@host\/\.\.\., or in its query\)$/);
      expect(message).not.toContain('wr0ng');
      // A query without them (a channel, a stream) still gives none.
      expect(await failureOf(`${cameraUrl('')}?channel=1&subtype=0`)).toMatch(/: the camera asks for a user and password, and CAMERA_PATH gives none \(http:\/\/user:password@host\/\.\.\.\)$/);
    });
  });
});
