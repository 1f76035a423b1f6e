import type { SourceDescription } from './resolve-source';

/** A URL's host in a stream URL or in a GStreamer pipeline's text (`location=rtsp://user:pw@cam:554/...`). */
const URL_HOST = /[a-z][\w+.-]*:\/\/(?:[^/@\s"']*@)?(\[[^\]]*\]|[^/:?#\s"']*)/gi;

/**
 * What of the device a source holds while it runs, which a second source holding the same may be refused: 'local
 * camera' for a V4L2 device (opened twice it is busy, and two USB cameras on one controller may not both get its
 * bandwidth) and for a GStreamer pipeline (v4l2src, or an Argus camera that takes one client, which capture cannot
 * tell from its text); a stream's host (a camera may take one client, or a few sessions); nothing for a file or the
 * test pattern, which any number of readers read.
 */
function heldResources(source: SourceDescription): string[] {
  const hosts = (text: string) => [...text.matchAll(URL_HOST)].map(([, host]) => `host ${host.toLowerCase()}`);
  switch (source.type) {
    case 'v4l2':
      return ['local camera'];
    case 'gstreamer':
      return ['local camera', ...hosts(source.pipeline)];
    case 'stream':
      return hosts(source.url);
    case 'file':
    case 'testpattern':
      return [];
  }
}

/**
 * Whether `next` may be started while `running` still delivers frames, so a switch to it can be make-before-break
 * (SourceSupervisor.switchSource): they hold nothing in common (see heldResources). Two cameras on this device, two
 * streams from one host (the same camera at another rate included) cannot, and are switched break-before-make.
 */
export function canRunSideBySide(running: SourceDescription, next: SourceDescription): boolean {
  const held = new Set(heldResources(running));
  return !heldResources(next).some((resource) => held.has(resource));
}
