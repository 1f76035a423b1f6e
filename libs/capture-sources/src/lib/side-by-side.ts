import { lookup } from 'node:dns/promises';
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
  const hosts = (text: string) => urlHosts(text).map((host) => `host ${host}`);
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
 * The hosts of the URLs in a stream URL or a pipeline's text, lower-case, an IPv6 address without its brackets; empty
 * for a stream listened for on this device (`udp://@:5000`).
 */
function urlHosts(text: string): string[] {
  return [...text.matchAll(URL_HOST)].map(([, host]) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
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

/** The longest a name's lookup may hold a switch: a name not resolved by then is taken for another host. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * canRunSideBySide, with the hosts' names resolved: one camera named by its address in one URL and by its name in the
 * other (`127.0.0.1` and `localhost`, `192.168.1.20` and `cam.local`) is one host, whose second client a camera that
 * takes one would refuse for as long as the first runs, leaving the switch pending for good. A name that does not
 * resolve (a mistyped host) shares no address, so a switch to it stays make-before-break.
 */
export async function canRunSideBySideResolved(running: SourceDescription, next: SourceDescription): Promise<boolean> {
  if (!canRunSideBySide(running, next)) return false;
  const addressesOf = async (source: SourceDescription) => {
    const text = source.type === 'stream' ? source.url : source.type === 'gstreamer' ? source.pipeline : '';
    return (await Promise.all(urlHosts(text).map(addresses))).flat();
  };
  const [held, wanted] = await Promise.all([addressesOf(running), addressesOf(next)]);
  return !wanted.some((address) => held.includes(address));
}

/** A host's addresses (an address is its own); none where it does not resolve within LOOKUP_TIMEOUT_MS. */
async function addresses(host: string): Promise<string[]> {
  if (host === '') return [];
  const timeout = new Promise<string[]>((resolve) => setTimeout(resolve, LOOKUP_TIMEOUT_MS, []).unref());
  const resolved = lookup(host, { all: true }).then(
    (found) => found.map(({ address }) => address),
    () => [],
  );
  return Promise.race([resolved, timeout]);
}
