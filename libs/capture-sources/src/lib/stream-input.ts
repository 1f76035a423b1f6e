import { type FfmpegInput, rawVideoArgs } from './ffmpeg-command';
import { rateAndSizeFilters } from './ffmpeg-tools';
import type { OutputShape } from './frame-source';
import { isHlsPlaylist, isHttpUrl, isRtspUrl } from './stream-url';

/**
 * How ffmpeg splits an HTTP(S) stream into pictures: 'auto' by the demuxer the server's Content-Type picks (`mpjpeg`
 * for multipart/x-mixed-replace); 'mjpeg' as bare JPEGs, each found by its markers with the part headers between them
 * skipped, which reads the multipart streams `mpjpeg` cannot (docs/capture/stream.md, MJPEG cameras).
 */
export const STREAM_FORMATS = ['auto', 'mjpeg'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

export interface StreamOptions extends OutputShape {
  /** RTSP only: 'tcp' (default) gets through NAT and firewalls and loses no packets; 'udp' has less latency. */
  rtspTransport?: 'tcp' | 'udp';
  /** How an HTTP(S) stream is split into pictures (default 'auto'); prepareSource refuses 'mjpeg' for any other. */
  format?: StreamFormat;
  /** Seconds without data before ffmpeg gives up (default 10): a camera that goes silent fails the source instead of hanging it. */
  timeoutSeconds?: number;
  /** From `ffmpeg -version`: RTSP's socket timeout is `-stimeout` before ffmpeg 5 (where `-timeout` meant listening). */
  ffmpegMajorVersion?: number;
}

const DEFAULT_STREAM_TIMEOUT_SECONDS = 10;

/** The options that end ffmpeg's read of a stream gone silent, each protocol by its own. */
function streamTimeoutOptions(url: string, { rtspTransport = 'tcp', timeoutSeconds = DEFAULT_STREAM_TIMEOUT_SECONDS, ffmpegMajorVersion = Infinity }: StreamOptions): string[] {
  const timeoutMicroseconds = String(Math.round(timeoutSeconds * 1_000_000));
  if (isRtspUrl(url)) return ['-rtsp_transport', rtspTransport, ffmpegMajorVersion < 5 ? '-stimeout' : '-timeout', timeoutMicroseconds];
  // UDP's own timeout: the generic one never ends a read that nothing is sent to (ffmpeg waits for good).
  if (/^udp:/i.test(url)) return ['-timeout', timeoutMicroseconds];
  // ffmpeg's RTP reader takes no timeout at all ("Option rw_timeout not found" stops it): capture's stall watchdog
  // restarts a silent one.
  if (/^rtp:/i.test(url)) return [];
  // Every other protocol takes the generic I/O timeout; RTMP's own -timeout would make ffmpeg listen instead.
  return ['-rw_timeout', timeoutMicroseconds];
}

/**
 * An HTTP(S) stream's rate limit counts each frame at the moment it leaves the decoder: an MJPEG camera's pictures
 * carry no time (ffmpeg counts them at 25 fps whatever the camera sends, so CAPTURE_FPS=5 kept 2 frames a second of a
 * 10 fps camera, read either way), and ffmpeg cannot say which an HTTP stream is before it opens it. In microseconds
 * (settb), as the stream's own time base (1/25 s for MJPEG) would round the times and keep at most 25 frames a second.
 * Decoded frames leave in order, so these times rise even where packets arrive out of it (B-frames). Frames so timed
 * come unevenly, which the rate limit allows for (rateAndSizeFilters); a stream with times of its own (MPEG-TS, FLV)
 * loses the frames it buffers before its first (5 s of analysis for MPEG-TS) beyond the limit's allowance, read at
 * once. Other streams (RTSP, UDP, RTMP) and HLS, paced by its own times, keep them.
 */
const TIMED_AS_DECODED = ['settb=AVTB', 'setpts=RTCTIME-RTCSTART'];
/**
 * The output timed in the filters' microseconds too: ffmpeg's encoder takes the time base of the rate it guessed for
 * the stream (1/25 s for MJPEG), so two frames the rate limit keeps under 1/25 s apart got the same time, and the
 * muxer said "non monotonically increasing dts" for the second (written all the same): a camera over 25 fps under a
 * CAPTURE_FPS over 25, or a backlog read at once after a stall (the rate limit's allowance of it, a quarter second's frames).
 */
const OUTPUT_TIMED_AS_DECODED = ['-enc_time_base:v', '1:1000000'];

/** ffmpeg reading a network stream: RTSP(S), HTTP(S), RTMP, or anything else ffmpeg opens by URL (udp, srt, tcp). */
export function streamInput(url: string, options: StreamOptions): FfmpegInput {
  const timeouts = streamTimeoutOptions(url, options);
  // Read at its own rate (-re) where HLS: it comes a segment at once, and as a live source keeps only its newest frame,
  // most of its frames were dropped (HLS at 10 fps reached inference at 2). Not a stream that comes as it plays (RTSP,
  // MJPEG, MPEG-TS, FLV, or MP4 served live as go2rtc serves it), which paced would keep the seconds ffmpeg spent
  // opening it as latency; a recorded file over HTTP cannot be told from such a live one by its URL.
  const pace = isHlsPlaylist(url) ? ['-re'] : [];
  const format = options.format === 'mjpeg' ? ['-f', 'mjpeg'] : [];
  const timedAsDecoded = Boolean(options.fps) && isHttpUrl(url) && !isHlsPlaylist(url);
  const videoFilters = [...(timedAsDecoded ? TIMED_AS_DECODED : []), ...rateAndSizeFilters(options)];
  const outputOptions = timedAsDecoded ? OUTPUT_TIMED_AS_DECODED : [];
  return { inputOptions: [...timeouts, ...pace, ...format, '-thread_type', 'slice'], input: url, videoFilters, outputOptions };
}

/** The ffmpeg command line for a network stream (see streamInput). */
export function buildStreamArgs(url: string, options: StreamOptions): string[] {
  return rawVideoArgs(streamInput(url, options));
}
