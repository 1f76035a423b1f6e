import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { VideoSourceError } from './video-source-error';

/** Per ffmpeg binary, whether it crashes looking a host name up: asked once a process. */
const crashesByPath = new Map<string, Promise<boolean>>();

/** The stream URL's host where it is a name to look up: not an address, and not absent (udp://@:5000). */
export function hostNameOf(url: string): string | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  return hostname && !isIP(hostname) ? hostname : undefined;
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
