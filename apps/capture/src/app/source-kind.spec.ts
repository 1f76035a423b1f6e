import { describeCameraPath } from './source-kind';

describe('describeCameraPath', () => {
  it("recognises the original sample's values", () => {
    expect(describeCameraPath('v4l2src device=/dev/video0 ! video/x-raw, width=640, height=480 ! videoconvert ! video/x-raw,format=BGR ! appsink')).toBe(
      'a GStreamer pipeline',
    );
    expect(describeCameraPath('/workspace/iot-edge-solution/modules/samplemodule/local_data/demo_video.mkv')).toBe('file');
  });

  it('recognises cameras and network streams', () => {
    expect(describeCameraPath('/dev/video0')).toBe('a V4L2 camera');
    expect(describeCameraPath('rtsp://camera.local/stream1')).toBe('a network stream');
    expect(describeCameraPath('assets/demo/demo.mp4')).toBe('file');
  });
});
