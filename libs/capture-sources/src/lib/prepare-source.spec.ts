import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '@iev/service-runtime';
import type { Frame } from '@iev/frame-protocol';
import pino from 'pino';
import { prepareSource } from './prepare-source';
import { SourceSupervisor } from './source-supervisor';

jest.setTimeout(20_000);

const settings = (source: string) => ({ source, fps: 0, width: 0, height: 0 });

describe('prepareSource', () => {
  it('refuses a GStreamer pipeline capture cannot run, naming the setting and the problem', async () => {
    await expect(prepareSource(settings('videotestsrc ! fakesink'), {}, { setting: 'CAMERA_PATH' })).rejects.toThrow(
      'CAMERA_PATH is not a pipeline capture can run: GStreamer pipeline must end in appsink (or in the element that makes the frames), not fakesink',
    );
    await expect(prepareSource(settings('videotestsrc ! textoverlay text="open ! appsink'), {}, { setting: 'CAMERA_PATH' })).rejects.toThrow('GStreamer pipeline has an unclosed "');
  });

  it('says a video file is not there, naming the setting, and the file once also as the log writes the error (with its causes)', async () => {
    const refused: unknown = await prepareSource(settings('/nonexistent/clip.mp4'), {}, { setting: 'CAMERA_PATH' }).catch((error: unknown) => error);

    expect(pino.stdSerializers.err(refused as Error).message).toBe('CAMERA_PATH: video file not found: /nonexistent/clip.mp4');
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
    await expect(prepareSource(settings('/dev/video96'), {}, { setting: 'source', requireCamera: true })).rejects.toThrow(/^source: camera \/dev\/video96 does not exist on this device$/);
  });

  it('rejects a twin switch to a bad pipeline before the running source is touched (real gst-launch-1.0)', async () => {
    const working = await prepareSource(settings('videotestsrc pattern=red ! video/x-raw,width=16,height=16 ! appsink'), {}, { setting: 'CAMERA_PATH' });
    const supervisor = new SourceSupervisor(working.create, { failFastBeforeFirstFrame: true, backoff: new Backoff(50, 400, 0) });
    const frames = supervisor.frames();
    const next = async (): Promise<Frame> => (await frames.next()).value as Frame;
    try {
      await next();
      // As the capture module applies a twin change: prepared first, switched to only once that succeeded.
      const applied = prepareSource(settings('videotestsrc ! fakesink'), {}, { setting: 'source', requireCamera: true }).then((prepared) => supervisor.switchSource(prepared.create));

      await expect(applied).rejects.toThrow('source is not a pipeline capture can run');
      // Still the working pipeline's frames (a switch to the refused one would deliver none).
      expect([(await next()).width, (await next()).width]).toEqual([16, 16]);
      expect(supervisor.state).toBe('streaming');
    } finally {
      await supervisor.stop();
      await frames.return(undefined);
    }
  });
});
