import { DecoderLog, ffmpegTool, gstLaunchTool } from './decoder-tools';

describe('DecoderLog', () => {
  it('keeps ffmpeg\'s warnings and errors, without their level and component tags', () => {
    const log = new DecoderLog(ffmpegTool('ffmpeg'));
    for (const line of [
      "[info] Input #0, mpegts, from 'http://127.0.0.1:8080/live.ts':",
      '[h264 @ 0x55d6e2500200] [warning] concealing 12 DC, 12 AC, 12 MV errors in P frame',
      '[tcp @ 0x55d6e2500200] [error] Connection to tcp://127.0.0.1:1 failed: Connection refused',
      '[info] frame=   29 fps=0.0 q=-0.0 Lsize=    1631kB time=00:00:02.90',
      '[fatal] Conversion failed!',
    ]) {
      log.add(line);
    }

    expect(log.lastWords()).toBe('concealing 12 DC, 12 AC, 12 MV errors in P frame | Connection to tcp://127.0.0.1:1 failed: Connection refused | Conversion failed!');
    expect(log.lastWords(1)).toBe('Conversion failed!');
  });

  it('keeps gst-launch\'s ERROR and WARNING lines, the system error of an ERROR\'s debug info, and GLib\'s criticals', () => {
    const log = new DecoderLog(gstLaunchTool('gst-launch-1.0'));
    for (const line of [
      "ERROR: from element /GstPipeline:pipeline0/GstV4l2Src:v4l2src0: Cannot identify device '/dev/video0'.",
      'Additional debug info:',
      'system error: No such file or directory',
      "(gst-launch-1.0:4242): GStreamer-CRITICAL **: 10:00:00.000: gst_caps_unref: assertion 'caps != NULL' failed",
      'Setting pipeline to NULL ...',
    ]) {
      log.add(line);
    }

    expect(log.lastWords()).toBe(
      "ERROR: from element /GstPipeline:pipeline0/GstV4l2Src:v4l2src0: Cannot identify device '/dev/video0'. | system error: No such file or directory | " +
        "(gst-launch-1.0:4242): GStreamer-CRITICAL **: 10:00:00.000: gst_caps_unref: assertion 'caps != NULL' failed",
    );
  });

  it('says so when the decoder reported nothing wrong, and holds only the latest lines of a long run', () => {
    const log = new DecoderLog(ffmpegTool('ffmpeg'));
    expect(log.lastWords()).toBe('ffmpeg reported no error');

    for (let i = 0; i < 1000; i++) log.add(`[warning] packet ${i} lost`);

    expect(log.lastWords(25).split(' | ')).toEqual(Array.from({ length: 20 }, (_, i) => `packet ${980 + i} lost`));
  });
});
