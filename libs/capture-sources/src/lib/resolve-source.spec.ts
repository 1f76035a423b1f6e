import type { FrameSource } from './frame-source';
import { createFrameSource, ensureDecoderInstalled, resolveSource, type SourceTypeOverride } from './resolve-source';
import { VideoFileSource } from './video-file-source';

const SAMPLE_PIPELINE = 'v4l2src device=/dev/video0 ! video/x-raw, width=640, height=480 ! videoconvert ! video/x-raw,format=BGR ! appsink';
const JETSON_CSI_PIPELINE = 'nvarguscamerasrc ! video/x-raw(memory:NVMM), width=1280, height=720 ! nvvidconv ! video/x-raw, format=BGRx ! videoconvert ! video/x-raw, format=BGR ! appsink';

describe('resolveSource', () => {
  it.each([
    [SAMPLE_PIPELINE, { type: 'gstreamer', pipeline: SAMPLE_PIPELINE }],
    [JETSON_CSI_PIPELINE, { type: 'gstreamer', pipeline: JETSON_CSI_PIPELINE }],
    ['videotestsrc!appsink', { type: 'gstreamer', pipeline: 'videotestsrc!appsink' }],
    ['/dev/video0', { type: 'v4l2', device: '/dev/video0' }],
    ['/dev/v4l/by-id/usb-046d_HD_Webcam-video-index0', { type: 'v4l2', device: '/dev/v4l/by-id/usb-046d_HD_Webcam-video-index0' }],
    ['rtsp://admin:secret@192.168.1.64:554/Streaming/Channels/101', { type: 'stream', url: 'rtsp://admin:secret@192.168.1.64:554/Streaming/Channels/101' }],
    ['http://camera.local/video.mjpg', { type: 'stream', url: 'http://camera.local/video.mjpg' }],
    ['rtmp://media.local/live/camera0', { type: 'stream', url: 'rtmp://media.local/live/camera0' }],
    ['udp://239.0.0.1:1234', { type: 'stream', url: 'udp://239.0.0.1:1234' }],
    ['testsrc', { type: 'testpattern' }],
    ['testpattern', { type: 'testpattern' }],
    ['assets/demo/demo.mp4', { type: 'file', path: 'assets/demo/demo.mp4' }],
    ['/videos/my video.mp4', { type: 'file', path: '/videos/my video.mp4' }],
    ['  /dev/video1\n', { type: 'v4l2', device: '/dev/video1' }],
  ])('tells what %j names', (cameraPath, description) => {
    expect(resolveSource(cameraPath)).toEqual(description);
  });

  it.each<[string, SourceTypeOverride, object]>([
    ['/dev/front-camera', 'v4l2', { type: 'v4l2', device: '/dev/front-camera' }],
    ['testsrc', 'file', { type: 'file', path: 'testsrc' }],
    ['clips/a!b.mp4', 'file', { type: 'file', path: 'clips/a!b.mp4' }],
    ['filesrc location=a.mp4 ! decodebin ! appsink', 'gstreamer', { type: 'gstreamer', pipeline: 'filesrc location=a.mp4 ! decodebin ! appsink' }],
    ['srt://encoder.local:9000', 'stream', { type: 'stream', url: 'srt://encoder.local:9000' }],
    ['anything at all', 'testpattern', { type: 'testpattern' }],
    ['', 'testpattern', { type: 'testpattern' }],
  ])('takes %j as the %s the caller says it is', (cameraPath, overrideType, description) => {
    expect(resolveSource(cameraPath, overrideType)).toEqual(description);
  });

  it('refuses what it cannot use, saying why', () => {
    expect(() => resolveSource('  ')).toThrow('the camera path is empty');
    expect(() => resolveSource('/videos/clip.mp4', 'stream')).toThrow('not a stream URL (protocol://...): /videos/clip.mp4');
    expect(() => resolveSource('/dev/video0', 'webcam' as SourceTypeOverride)).toThrow('unknown source type webcam: use one of auto, file, v4l2, gstreamer, stream, testpattern');
    // Not taken for a file of that name, whose error would be "video file not found".
    expect(() => resolveSource('foo://viewer:s3cret@camera/ch1')).toThrow(
      'foo://viewer:***@camera/ch1 is a URL of a protocol capture does not recognise (foo): use rtsp, rtsps, rtmp, rtmps, http, https, udp, rtp, srt, tcp, or CAPTURE_SOURCE=stream for another that ffmpeg reads',
    );
  });
});

describe('createFrameSource', () => {
  const describeSource = (source: FrameSource) => ({ label: source.label, sourceId: source.sourceId });

  it('names each kind of source for its errors, with a default source id', () => {
    expect(describeSource(createFrameSource(resolveSource('assets/demo/demo.mp4')))).toEqual({ label: 'assets/demo/demo.mp4', sourceId: 'demo.mp4' });
    expect(describeSource(createFrameSource(resolveSource('/dev/video0')))).toEqual({ label: 'V4L2 camera /dev/video0', sourceId: 'video0' });
    expect(describeSource(createFrameSource(resolveSource(SAMPLE_PIPELINE)))).toEqual({ label: `GStreamer pipeline "${SAMPLE_PIPELINE}"`, sourceId: 'gstreamer' });
    expect(describeSource(createFrameSource(resolveSource('rtsp://admin:secret@192.168.1.64/ch1')))).toEqual({ label: 'stream rtsp://admin:***@192.168.1.64/ch1', sourceId: 'stream' });
    expect(describeSource(createFrameSource(resolveSource('testsrc'), { sourceId: 'camera0' }))).toEqual({ label: 'test pattern', sourceId: 'camera0' });
  });

  it('keeps files on VideoFileSource', () => {
    expect(createFrameSource({ type: 'file', path: 'a.mp4' }, { loop: false })).toBeInstanceOf(VideoFileSource);
  });

  it('refuses options that cannot describe a frame, whatever the source', () => {
    expect(() => createFrameSource(resolveSource('testsrc'), { width: 0 })).toThrow('width must be a positive integer, got 0');
    expect(() => createFrameSource(resolveSource(SAMPLE_PIPELINE), { fps: -1 })).toThrow('fps must be a positive number, got -1');
    expect(() => createFrameSource(resolveSource('rtsp://camera/ch1'), { streamTimeoutSeconds: 0 })).toThrow('the stream timeout must be a positive number of seconds, got 0');
  });
});

describe('ensureDecoderInstalled', () => {
  it('passes when the decoder a source needs runs', async () => {
    await expect(ensureDecoderInstalled(resolveSource('videotestsrc ! appsink'))).resolves.toBeUndefined();
    await expect(ensureDecoderInstalled(resolveSource('rtsp://camera.local/stream'))).resolves.toBeUndefined();
  });

  it('names what to install when it does not', async () => {
    await expect(ensureDecoderInstalled(resolveSource('videotestsrc ! appsink'), { gstLaunchPath: '/nonexistent/gst-launch-1.0' })).rejects.toThrow(
      'install GStreamer',
    );
    await expect(ensureDecoderInstalled(resolveSource('/dev/video0'), { ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toThrow('install ffmpeg');
  });
});
