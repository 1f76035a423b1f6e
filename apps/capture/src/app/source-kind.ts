/** What kind of source a CAMERA_PATH names, for the strings the original sample accepted. */
export function describeCameraPath(cameraPath: string): 'file' | 'a GStreamer pipeline' | 'a V4L2 camera' | 'a network stream' {
  if (/!\s*appsink\b[^!]*$|^\s*\w+src\b/.test(cameraPath)) return 'a GStreamer pipeline';
  if (cameraPath.startsWith('/dev/video')) return 'a V4L2 camera';
  if (/^(rtsp|rtmp|https?|udp|srt):\/\//.test(cameraPath)) return 'a network stream';
  return 'file';
}
