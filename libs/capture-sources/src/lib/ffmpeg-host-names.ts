import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { VideoSourceError } from './video-source-error';

/** Per ffmpeg binary, whether it crashes looking a host name up: asked once a process. */
const crashesByPath = new Map<string, Promise<boolean>>();

/** A part of an IPv4 address as inet_aton reads it: hex after 0x, octal after a leading 0, else decimal. */
const IPV4_PART = /^(?:0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i;

/**
 * Whether getaddrinfo reads the host as an IPv4 address without a lookup, as inet_aton does: one to four parts, the
 * last filling the bytes left (127.1, 2130706433, 0x7f.1). A URL parser leaves these as written for a scheme it does not
 * know (rtsp://127.1/); ffmpeg 4.1's static build opened each, and crashed on 127.1. and 1.16777216 as on a name.
 */
function isShortIpv4(host: string): boolean {
  const parts = host.split('.');
  if (parts.length > 4 || !parts.every((part) => IPV4_PART.test(part))) return false;
  const values = parts.map((part) => Number(/^0[0-7]+$/.test(part) ? `0o${part.slice(1)}` : part));
  const lastLimit = 2 ** (8 * (5 - parts.length));
  return values.slice(0, -1).every((value) => value < 256) && values[values.length - 1] < lastLimit;
}

/** The stream URL's host where it is a name to look up: not an address, and not absent (udp://@:5000). */
export function hostNameOf(url: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  return hostname && !isIP(hostname) && !isShortIpv4(hostname) ? hostname : undefined;
}

/**
 * Whether this ffmpeg crashes (SIGSEGV) looking up any host name, as the static ffmpeg 4.1 that npm installs does
 * (glibc's resolver cannot load in a static build): asked by opening tcp://localhost on a port nothing listens on
 * (tcp, not http, which an http_proxy given by address would take without looking the name up).
 */
export function crashesOnHostNames(ffmpegPath: string): Promise<boolean> {
  let crashes = crashesByPath.get(ffmpegPath);
  if (!crashes) {
    crashes = new Promise((resolve) => {
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'quiet', '-rw_timeout', '2000000', '-i', 'tcp://localhost:1'];
      execFile(ffmpegPath, args, { timeout: 5000 }, (error) => resolve(error?.signal === 'SIGSEGV'));
    });
    crashesByPath.set(ffmpegPath, crashes);
  }
  return crashes;
}

/**
 * Refuses a stream URL that names its host where the ffmpeg in use crashes looking names up: it would crash on each
 * retry for good, saying only that it was killed.
 */
export async function assertFfmpegCanOpen(url: string, ffmpegPath: string): Promise<void> {
  const host = hostNameOf(url);
  if (host === undefined || !(await crashesOnHostNames(ffmpegPath))) return;
  throw new VideoSourceError(
    `${host} is a host name, and ffmpeg ${ffmpegPath} crashes looking names up (as the static ffmpeg 4.1 npm installs does): ` +
      'install ffmpeg 5 or later (on PATH, or FFMPEG_PATH), or give the camera\'s address',
  );
}
