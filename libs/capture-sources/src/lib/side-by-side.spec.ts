import { resolveSource } from './resolve-source';
import { canRunSideBySide, canRunSideBySideResolved } from './side-by-side';

const sideBySide = (running: string, next: string) => canRunSideBySide(resolveSource(running), resolveSource(next));

describe('canRunSideBySide', () => {
  it.each([
    ['a camera and a stream', '/dev/video0', 'rtsp://10.0.0.7/stream'],
    ['a stream and one from another host', 'rtsp://10.0.0.7/stream', 'rtsp://user:pw@10.0.0.8/stream'],
    ['a file and itself (another rate)', '/videos/door.mp4', '/videos/door.mp4'],
    ['a pipeline and the test pattern', 'videotestsrc ! appsink', 'testsrc'],
    ["a pipeline and a stream from a host it does not read", 'rtspsrc location=rtsp://10.0.0.7/a ! decodebin ! appsink', 'rtsp://10.0.0.8/a'],
  ])('lets %s run side by side', (_, running, next) => {
    expect(sideBySide(running, next)).toBe(true);
    expect(sideBySide(next, running)).toBe(true);
  });

  it.each([
    ['a camera and itself (another rate)', '/dev/video0', '/dev/video0'],
    ['two cameras (one USB controller may not have the bandwidth for both)', '/dev/video0', '/dev/v4l/by-id/usb-cam-video-index0'],
    ['a camera and a pipeline (that may open it)', '/dev/video0', 'nvarguscamerasrc ! nvvidconv ! appsink'],
    ['a stream and itself (another rate)', 'rtsp://10.0.0.7/stream', 'rtsp://10.0.0.7/stream'],
    ['two streams of one camera, whatever their user, port or path', 'rtsp://admin:pw@Cam.local:554/main', 'http://cam.local/snapshot.mjpeg'],
    ['a pipeline and a stream from the host it reads', 'rtspsrc location="rtsp://10.0.0.7/a" ! decodebin ! appsink', 'rtsp://10.0.0.7/b'],
    ['two streams listened for on this device', 'udp://@:5000', 'udp://@:5001'],
  ])('keeps %s from running side by side', (_, running, next) => {
    expect(sideBySide(running, next)).toBe(false);
    expect(sideBySide(next, running)).toBe(false);
  });
});

describe('canRunSideBySideResolved (the resolver of this machine)', () => {
  const resolved = (running: string, next: string) => canRunSideBySideResolved(resolveSource(running), resolveSource(next));

  // A camera that takes one client refused the second for as long as the first ran: the switch stayed pending for good.
  it('keeps one camera named by its address and by its name from running side by side', async () => {
    expect(await resolved('http://127.0.0.1:8080/video.mjpeg', 'http://localhost:8080/video.mjpeg?w=640')).toBe(false);
    expect(await resolved('rtsp://localhost/main', 'rtspsrc location=rtsp://127.0.0.1/sub ! decodebin ! appsink')).toBe(false);
  });

  it('lets a stream from a host that does not resolve (a mistyped name) run beside the running one', async () => {
    expect(await resolved('http://127.0.0.1:8080/video.mjpeg', 'http://no-such-camera.invalid:8080/video.mjpeg')).toBe(true);
    expect(await resolved('rtsp://10.0.0.7/stream', 'rtsp://[::2]/stream')).toBe(true);
  });
});
