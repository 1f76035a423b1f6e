/**
 * A container has only the devices passed into it: a camera the host has (`ls /dev/video*` on it) is missing in the
 * container until `docker run --device` (the camera devcontainer's runArgs) or, under IoT Edge, the module's
 * createOptions pass it in. Said whether or not this process is in a container: it cannot tell for sure.
 */
const passItIn = (device: string) => `pass it in with --device ${device} (a deployment's createOptions HostConfig.Devices)`;

/**
 * What to do about a camera device node that fails, whichever decoder opened it (ffmpeg's V4L2 input, GStreamer's
 * v4l2src): each decoder's advice recognises its own words for these, and says them in these words. `setting`: the
 * one that chose the device (CAMERA_PATH, a CAPTURE_SOURCES entry, a twin's source).
 */
export const cameraDeviceAdvice = {
  missing: (device: string, setting: string) => `no camera at ${device}: plug it in (retried meanwhile), or set ${setting} to one this device has; in a container, ${passItIn(device)}`,
  /** A twin's source naming a camera that is not there: the change is refused. */
  absent: (device: string) => `camera ${device} does not exist on this device; in a container, ${passItIn(device)}`,
  goneAway: (device: string) => `${device} went away (unplugged?): retried until it is back`,
  busy: (device: string, setting: string) => `another program has ${device} open: stop it, or set ${setting} to another camera`,
  // EACCES (the node's mode and group), or EPERM (a container's device rules: most often a node mounted as a volume,
  // there but not allowed): one advice says what mends either. The images' user is in their video group (gid 44), so
  // in a container EACCES means the host's group for the node has another gid (docker/README.md, Camera).
  notPermitted: (device: string) =>
    `the module may not open ${device}: run it in the group that owns it (video as a rule); in a container, ${passItIn(device)}, not as a mounted volume, and add the host's gid of ${device} to HostConfig.GroupAdd where the image's video group (44) is not it`,
  notACamera: (device: string, setting: string) => `${device} is no camera's video node: set ${setting} to one (v4l2-ctl --list-devices)`,
};
