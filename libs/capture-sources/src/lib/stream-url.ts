import { maskCredentials } from '@iev/service-runtime';

/** A URL's scheme as written (`rtsp` of `rtsp://...`). */
export const urlScheme = (url: string): string => url.slice(0, url.indexOf(':'));

/** Whether the URL is an HTTP(S) one: the streams an HLS playlist, or bare JPEGs (StreamFormat), come over. */
export function isHttpUrl(url: string): boolean {
  return /^https?:/i.test(url);
}

/** Whether the URL is an RTSP(S) one. */
export const isRtspUrl = (url: string): boolean => /^rtsps?:/i.test(url);

/** An HLS playlist's path (`.m3u8`, or `.m3u`). */
const HLS_PLAYLIST = /\.m3u8?$/i;

/** Whether the URL names an HLS playlist over HTTP(S), its query and fragment aside. */
export function isHlsPlaylist(url: string): boolean {
  const path = url.split(/[?#]/, 1)[0];
  return isHttpUrl(url) && HLS_PLAYLIST.test(path);
}

/** The URL's host and port as written, without its user and password; the whole URL, masked, where it has none. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || maskCredentials(url);
  } catch {
    return maskCredentials(url);
  }
}
