import { credentialsInUrl, maskCredentials } from '@iev/service-runtime';
import { cameraDeviceAdvice } from './camera-device-advice';
import { type DecoderCommand, DecoderSource, type FailureAdvice, type FailureAdviser } from './decoder-source';
import { ensureToolRuns, ffmpegTool } from './decoder-tools';
import { type FfmpegInput, launchFfmpeg, rawVideoArgs, useFfmpegPath } from './ffmpeg-command';
import { ffmpegMajorVersion, ffmpegOutputFormatReader, framesAsDecoded, rateAndSizeFilters } from './ffmpeg-tools';
import type { BufferHeld } from './frame-ring';
import { DEFAULT_DECODED_FORMAT, type DecoderMessageListener, type OutputShape, scaledSize } from './frame-source';

export type V4l2InputFormat = 'mjpeg' | 'yuyv422';

export interface V4l2Options extends OutputShape {
  /** The pixel format asked of the camera; default: the one it is set to. */
  inputFormat?: V4l2InputFormat;
}

/**
 * ffmpeg capturing from a V4L2 camera. The size and rate are asked of the camera (which may pick the nearest it
 * supports) and also enforced by filters, so the frames have exactly the requested size, and at most the rate.
 */
export function v4l2Input(device: string, { inputFormat, width, height, fps }: V4l2Options): FfmpegInput {
  const inputOptions = [
    ...['-f', 'v4l2'],
    ...(inputFormat ? ['-input_format', inputFormat] : []),
    ...(width && height ? ['-video_size', `${width}x${height}`] : []),
    ...(fps ? ['-framerate', String(fps)] : []),
    // Frame-threaded MJPEG decoding holds back a frame per thread: latency a live camera should not have.
    ...['-thread_type', 'slice'],
  ];
  return { inputOptions, input: device, videoFilters: rateAndSizeFilters({ width, height, fps }) };
}

/** The ffmpeg command line for a V4L2 camera (see v4l2Input). */
export function buildV4l2Args(device: string, options: V4l2Options): string[] {
  return rawVideoArgs(v4l2Input(device, options));
}

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

/** A URL's scheme as written (`rtsp` of `rtsp://...`). */
export const urlScheme = (url: string): string => url.slice(0, url.indexOf(':'));

/** Whether the URL is an HTTP(S) one: the streams an HLS playlist, or bare JPEGs (StreamFormat), come over. */
export function isHttpUrl(url: string): boolean {
  return /^https?:/i.test(url);
}

const isRtspUrl = (url: string): boolean => /^rtsps?:/i.test(url);

/** An HLS playlist's path (`.m3u8`, or `.m3u`). */
const HLS_PLAYLIST = /\.m3u8?$/i;

/**
 * Whether the stream is read at its own rate (-re): HLS comes a segment at once, and as a live source keeps only its
 * newest frame, most of its frames were dropped (HLS at 10 fps reached inference at 2). Not a stream that comes as it
 * plays (RTSP, MJPEG, MPEG-TS, FLV, or MP4 served live as go2rtc serves it), which paced would keep the seconds ffmpeg
 * spent opening it as latency; a recorded file over HTTP cannot be told from such a live one by its URL.
 */
function isHlsPlaylist(url: string): boolean {
  const path = url.split(/[?#]/, 1)[0];
  return isHttpUrl(url) && HLS_PLAYLIST.test(path);
}

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
 * Decoded frames leave in order, so these times rise even where packets arrive out of it (B-frames). The cost, for a
 * stream with times of its own (MPEG-TS, FLV): arrival jitter loses a few frames in a hundred where CAPTURE_FPS is
 * near the stream's rate. Other streams (RTSP, UDP, RTMP) and HLS, paced by its own times, keep them.
 */
const TIMED_AS_DECODED = ['settb=AVTB', 'setpts=RTCTIME-RTCSTART'];
/**
 * The output timed in the filters' microseconds too: ffmpeg's encoder takes the time base of the rate it guessed for
 * the stream (1/25 s for MJPEG), so two frames the rate limit keeps under 1/25 s apart got the same time, and the
 * muxer said "non monotonically increasing dts" for the second (written all the same): a camera over 25 fps under a
 * CAPTURE_FPS over 25, or a backlog read at once after a stall (the frames on both sides of a rate-limit slot's edge).
 */
const OUTPUT_TIMED_AS_DECODED = ['-enc_time_base:v', '1:1000000'];

/** ffmpeg reading a network stream: RTSP(S), HTTP(S), RTMP, or anything else ffmpeg opens by URL (udp, srt, tcp). */
export function streamInput(url: string, options: StreamOptions): FfmpegInput {
  const timeouts = streamTimeoutOptions(url, options);
  const pace = isHlsPlaylist(url) ? ['-re'] : [];
  const format = options.format === 'mjpeg' ? ['-f', 'mjpeg'] : [];
  const timedAsDecoded = Boolean(options.fps) && isHttpUrl(url) && !isHlsPlaylist(url);
  const videoFilters = [...(timedAsDecoded ? TIMED_AS_DECODED : []), ...rateAndSizeFilters(options)];
  const outputOptions = timedAsDecoded ? OUTPUT_TIMED_AS_DECODED : [];
  return { inputOptions: [...timeouts, ...pace, ...format, '-thread_type', 'slice'], input: url, videoFilters, outputOptions };
}

/** How ffmpeg says an HTTP or RTSP server refused the request for want of the right user and password. */
const CREDENTIALS_REFUSED = /\b401 Unauthorized\b/;
/** How ffmpeg says the server knows who asks and forbids them the stream (a user without the right, or a wrong path). */
const FORBIDDEN = /\b403 Forbidden\b/;

/** How ffmpeg says nothing accepted the connection, the server has no such stream, or the host name did not resolve. */
const CONNECTION_REFUSED = /\bConnection refused\b/;
const NOT_FOUND = /\b404 Not Found\b/;
const NAME_NOT_RESOLVED = /\bFailed to resolve hostname\b/;
/**
 * The server takes no more clients now: how cameras say they serve as many streams as they can (RTSP's "method SETUP
 * failed: 503 ...", HTTP's "HTTP error 503 ...", or RTSP's 453 Not Enough Bandwidth); by the code, as the reason's
 * words are the camera's own.
 */
const NO_MORE_CLIENTS = /\b(?:failed: (?:503|453)|HTTP error 503)\b/;

/** RTSP's own refusals, as ffmpeg says them ("method SETUP failed: 461 Unsupported transport"; gst-rtsp-server's spelling). */
const SESSION_NOT_FOUND = /\b454 Session Not Found\b/i;
const UNSUPPORTED_TRANSPORT = /\b461 Unsupported Transport\b/i;
/**
 * All ffmpeg says of an RTSP server that took the connection and closed it, or said nothing within its socket timeout,
 * or answered something other than RTSP (an HTTP server's port): that line alone.
 */
const NO_RTSP_ANSWER = /^rtsps?:[^|]*: Invalid data found when processing input$/;
/** ffmpeg, over UDP, given the stream's description but none of its packets within the socket timeout. */
const NO_PACKETS = /\bCould not find codec parameters for stream\b/;

/**
 * Advice on a stream's failure that names its setting (CAMERA_PATH, a twin's source). A server that asks for a user and
 * password, and was given wrong ones or none, or forbids the user the stream, is retried at the longest delay: the
 * camera's password or rights may be what changes, and cameras lock an account after a few refused logins; as is an
 * RTSP camera that refuses the transport CAPTURE_RTSP_TRANSPORT asks for. A camera that is off, restarting or serving as
 * many clients as it takes, a path not published yet (a relay such as MediaMTX answers 404 until its camera connects)
 * and a name a network coming up cannot resolve yet mend themselves, so those are retried as usual; the advice says what
 * to check should they stay so.
 */
export function streamFailureAdvice(url: string, setting = 'the URL', rtspTransport: 'tcp' | 'udp' = 'tcp'): FailureAdviser {
  const example = `${urlScheme(url).toLowerCase()}://user:password@host/...`;
  const texts = {
    authority: `the camera refused the user and password in ${setting}`,
    // Some cameras take them in the query (?user=..&pwd=..), which cannot then be said to give none.
    query: `the camera refused the request: check the user and password ${setting} gives (${example}, or in its query)`,
    none: `the camera asks for a user and password, and ${setting} gives none (${example})`,
  };
  const credentialsGiven = credentialsInUrl(url);
  const credentials = texts[credentialsGiven ?? 'none'];
  const forbidden = `the camera forbids that stream: check the path in ${setting}, and ${credentialsGiven ? "that the user it gives may view it (the camera's user rights)" : `whether it takes a user and password (${example})`}`;
  const host = hostOf(url);
  const otherTransport = rtspTransport === 'tcp' ? 'udp' : 'tcp';
  const transportSetting = settingBeside(setting, 'CAPTURE_RTSP_TRANSPORT');
  return (lastWords, framesDecoded) => {
    if (CREDENTIALS_REFUSED.test(lastWords)) return { text: credentials, awaitsSettings: true };
    if (FORBIDDEN.test(lastWords)) return { text: forbidden, awaitsSettings: true };
    if (CONNECTION_REFUSED.test(lastWords)) return { text: `nothing accepts connections at ${host}: the camera may be off or restarting (retried meanwhile), or ${setting} names the wrong host or port`, awaitsSettings: false };
    if (NOT_FOUND.test(lastWords)) return { text: `the server has no stream at that path: check the path in ${setting}, or the stream is not published yet (retried meanwhile)`, awaitsSettings: false };
    if (NAME_NOT_RESOLVED.test(lastWords)) return { text: `${host} does not resolve: check the host name in ${setting} (retried meanwhile, as a network coming up may not resolve it yet)`, awaitsSettings: false };
    if (NO_MORE_CLIENTS.test(lastWords)) {
      const holders = 'a camera serves a few at once: other viewers, a recorder, or the session of one killed, until the camera times it out';
      return { text: `${host} takes no more clients now (${holders}): retried meanwhile; should it stay so, stop one, or share the camera through a relay (MediaMTX, go2rtc)`, awaitsSettings: false };
    }
    if (!isRtspUrl(url)) return undefined;
    if (UNSUPPORTED_TRANSPORT.test(lastWords)) return { text: `${host} refuses RTSP over ${rtspTransport.toUpperCase()}, which ${transportSetting} asks for: set it to ${otherTransport}`, awaitsSettings: true };
    // Mid-stream the same words tell of a stream that broke off, not of a session just set up or a port that is no RTSP one.
    if (framesDecoded > 0) return undefined;
    if (SESSION_NOT_FOUND.test(lastWords)) return { text: `${host} dropped the session it had just set up (as a camera or relay restarting does): retried meanwhile`, awaitsSettings: false };
    if (NO_RTSP_ANSWER.test(lastWords)) {
      const text = `${host} took the connection but gave no RTSP answer (it closed it, or said nothing for ${settingBeside(setting, 'CAPTURE_STREAM_TIMEOUT')}): check that ${setting} names the camera's RTSP port (554 unless set otherwise); retried meanwhile`;
      return { text, awaitsSettings: false };
    }
    // Over TCP the same words tell of a picture ffmpeg cannot read, not of packets dropped on the way.
    if (rtspTransport === 'udp' && NO_PACKETS.test(lastWords)) {
      return { text: `no video came from ${host} over UDP, which ${transportSetting} asks for (a firewall or NAT on the way may drop it): retried meanwhile; set it to tcp`, awaitsSettings: false };
    }
    return undefined;
  };
}

/**
 * Where another of the source's variables is set: beside its path in a CAPTURE_SOURCES entry ("CAPTURE_SOURCES[1]
 * CAMERA_PATH" gives "CAPTURE_SOURCES[1] CAPTURE_RTSP_TRANSPORT"), else the module's own variable.
 */
export function settingBeside(setting: string, variable: string): string {
  const entry = /^(.+\]) CAMERA_PATH$/.exec(setting);
  return entry ? `${entry[1]} ${variable}` : variable;
}

/** How ffmpeg's `mpjpeg` fails on a multipart stream whose parts it cannot split (docs/capture/stream.md, MJPEG cameras). */
const MJPEG_PARTS_NOT_SPLIT = /\bExpected boundary\b|\bCould not find codec parameters for stream \d+ \(Video: mjpeg\b/;
/** How it fails on a boundary line without its leading `--`, as on anything else that is no video it knows. */
const NOT_VIDEO = /\bInvalid data found when processing input\b/;

/**
 * Advice on an HTTP(S) stream read by the demuxer its Content-Type picks (CAPTURE_STREAM_FORMAT=auto) that failed as
 * ffmpeg fails on an MJPEG camera it cannot split into pictures: CAPTURE_STREAM_FORMAT=mjpeg reads it, set for the
 * camera the setting (CAMERA_PATH, a CAPTURE_SOURCES entry's, a twin's source) names. ffmpeg's words cannot tell a
 * boundary it did not find from a page that is no video (a login page sent as 200), so that failure is told as either.
 */
export function mjpegSplitAdvice(url: string, setting = 'the URL'): FailureAdviser {
  const remedy = `${settingBeside(setting, 'CAPTURE_STREAM_FORMAT')}=mjpeg reads its pictures as bare JPEGs`;
  return (lastWords, framesDecoded) => {
    if (!isHttpUrl(url) || isHlsPlaylist(url)) return undefined;
    // npm's ffmpeg 4.1 reads a first part without Content-Length, then fails on the next; past that, a stream that was
    // split broke off (a part whose Content-Length was wrong), which the setting does not mend.
    if (MJPEG_PARTS_NOT_SPLIT.test(lastWords) && framesDecoded <= 1) return { text: `ffmpeg could not split this MJPEG camera's multipart stream: ${remedy}`, awaitsSettings: false };
    // Past the first frames the same words tell of a stream that broke off, not of one never split.
    if (NOT_VIDEO.test(lastWords) && framesDecoded === 0) return { text: `an MJPEG camera ffmpeg could not split (${remedy}), or no video at that URL (a login or status page)`, awaitsSettings: false };
    return undefined;
  };
}

/** The URL's host and port as written, without its user and password; the whole URL, masked, where it has none. */
function hostOf(url: string): string {
  try {
    return new URL(url).host || maskCredentials(url);
  } catch {
    return maskCredentials(url);
  }
}

/**
 * Advice on a V4L2 camera's failure, naming the setting that chose it (CAMERA_PATH, a CAPTURE_SOURCES entry, a twin's
 * source) where that is what to change, as the retry line repeats it (inputFormat: the one CAPTURE_V4L2_FORMAT asks
 * for): a camera not plugged in, unplugged, or held by another program is retried until it can be opened, and the line
 * says what to do should it stay so. Undefined for words it does not know: ffmpeg's own say more than a guess.
 */
export function v4l2FailureAdvice(device: string, setting = 'the camera path', inputFormat?: V4l2InputFormat): FailureAdviser {
  const advice = (text: string): FailureAdvice => ({ text, awaitsSettings: false });
  return (lastWords) => {
    if (/No such file or directory/.test(lastWords)) return advice(cameraDeviceAdvice.missing(device, setting));
    if (/No such device/.test(lastWords)) return advice(cameraDeviceAdvice.goneAway(device));
    if (/Device or resource busy/.test(lastWords)) return advice(cameraDeviceAdvice.busy(device, setting));
    if (/Permission denied/.test(lastWords)) return advice(cameraDeviceAdvice.notPermitted(device));
    if (/Inappropriate ioctl for device|Not a video capture device/.test(lastWords)) return advice(cameraDeviceAdvice.notACamera(device, setting));
    if (inputFormat && /Cannot find a proper format/.test(lastWords)) return advice(`the camera does not offer ${inputFormat}, which ${settingBeside(setting, 'CAPTURE_V4L2_FORMAT')} asks for: set it to auto, or to one v4l2-ctl --list-formats-ext lists`);
    return undefined;
  };
}

/** The ffmpeg command line for a network stream (see streamInput). */
export function buildStreamArgs(url: string, options: StreamOptions): string[] {
  return rawVideoArgs(streamInput(url, options));
}

export interface TestPatternOptions extends OutputShape {
  /** Release frames at the pattern's rate, like a camera (default true); false: as fast as the consumer takes them. */
  realtime?: boolean;
}

export const TEST_PATTERN_DEFAULTS = { width: 640, height: 480, fps: 30 } as const;

/** ffmpeg generating its moving `testsrc2` pattern (colour bars, a counter, a moving gradient); a lone side is completed at 4:3. */
export function testPatternInput({ width, height, fps, realtime = true }: TestPatternOptions): FfmpegInput {
  const size = scaledSize(TEST_PATTERN_DEFAULTS, { width, height });
  const pattern = `testsrc2=size=${size.width}x${size.height}:rate=${fps ?? TEST_PATTERN_DEFAULTS.fps}`;
  // testsrc2 draws 4:2:0 at even sides only (asked for 65x49 it writes 64x48): an odd side is reached by scaling.
  const oddSide = size.width % 2 === 1 || size.height % 2 === 1;
  return { inputOptions: [...(realtime ? ['-re'] : []), '-f', 'lavfi'], input: pattern, videoFilters: oddSide ? [`scale=${size.width}:${size.height}`] : [] };
}

/** The ffmpeg command line for the test pattern (see testPatternInput). */
export function buildTestPatternArgs(options: TestPatternOptions): string[] {
  return rawVideoArgs(testPatternInput(options));
}

export interface FfmpegSourceSettings {
  sourceId: string;
  label: string;
  shape: OutputShape;
  ffmpegPath: string;
  /** What ffmpeg reads, given the installed ffmpeg's major version. */
  buildInput(ffmpegMajorVersion: number): FfmpegInput;
  /** False only for a test pattern generated as fast as it is taken (see FrameSource.live). */
  live: boolean;
  /** See FrameSourceOptions.bufferHeld. */
  bufferHeld?: BufferHeld;
  onDecoderMessage?: DecoderMessageListener;
  /** See DecoderSourceSettings.failureAdvice. */
  failureAdvice?: FailureAdviser;
}

/**
 * A source decoded by ffmpeg that never ends (camera, network stream, test pattern), so its end is a failure. Its
 * frames' size and colour matrix are read from ffmpeg's description of its output: a camera or stream says its
 * matrix only once opened.
 */
export class FfmpegSource extends DecoderSource {
  constructor(private readonly settings: FfmpegSourceSettings) {
    const { sourceId, label, live, shape, bufferHeld, onDecoderMessage, failureAdvice } = settings;
    super({ sourceId, label, endOfInputIsNormal: false, live, shape, bufferHeld, onDecoderMessage, failureAdvice });
  }

  protected override async prepare(): Promise<DecoderCommand> {
    const { ffmpegPath, buildInput } = this.settings;
    const tool = ffmpegTool(ffmpegPath);
    const version = await ensureToolRuns(tool);
    useFfmpegPath(ffmpegPath);
    const pixelFormat = this.settings.shape.pixelFormat ?? DEFAULT_DECODED_FORMAT;
    const built = buildInput(ffmpegMajorVersion(version));
    const input = { ...built, pixelFormat, outputOptions: [...(built.outputOptions ?? []), ...framesAsDecoded(version)] };
    return { tool, frameFormat: ffmpegOutputFormatReader(), pixelFormat, launch: (listeners) => launchFfmpeg(input, listeners) };
  }
}
