import { basename } from 'node:path';
import { maskCredentials } from '@iev/service-runtime';
import type { FailureAdviser } from './decoder-source';
import { ensureToolRuns, ffmpegTool, gstLaunchTool } from './decoder-tools';
import { defaultFfmpegPath } from './ffmpeg-location';
import { FfmpegSource } from './ffmpeg-source';
import type { VideoInfo } from './ffmpeg-tools';
import type { BufferHeld } from './frame-ring';
import { type DecoderMessageListener, type FrameSource, type OutputShape } from './frame-source';
import { GstreamerPipelineSource, gstreamerFailureAdvice } from './gstreamer-source';
import { mjpegSplitAdvice, streamFailureAdvice } from './stream-failure-advice';
import { type StreamFormat, streamInput } from './stream-input';
import { urlScheme } from './stream-url';
import { TEST_PATTERN_DEFAULTS, TEST_PATTERN_LABEL, testPatternInput } from './test-pattern-input';
import { v4l2FailureAdvice } from './v4l2-failure-advice';
import { type V4l2InputFormat, v4l2Input } from './v4l2-input';
import { VideoFileSource } from './video-file-source';
import { VideoSourceError } from './video-source-error';

export const SOURCE_TYPES = ['file', 'v4l2', 'gstreamer', 'stream', 'testpattern'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];
/** What a caller may force instead of guessing from the camera path: 'auto' guesses. */
export const SOURCE_TYPE_OVERRIDES = ['auto', ...SOURCE_TYPES] as const;
export type SourceTypeOverride = (typeof SOURCE_TYPE_OVERRIDES)[number];

/** What a camera path names, typed; createFrameSource turns it into a running source. */
export type SourceDescription =
  | { type: 'file'; path: string }
  | { type: 'v4l2'; device: string }
  | { type: 'gstreamer'; pipeline: string }
  | { type: 'stream'; url: string }
  | { type: 'testpattern' };

/** Camera paths that mean the synthetic pattern rather than a file of that name. */
const TEST_PATTERN_NAMES = new Set(['testsrc', 'testpattern']);
/** The URLs taken for streams without CAPTURE_SOURCE=stream. */
const STREAM_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'udp', 'rtp', 'srt', 'tcp'];
const STREAM_PROTOCOLS = new RegExp(`^(${STREAM_SCHEMES.join('|')})://`, 'i');
const ANY_URL = /^[a-z][\w+.-]*:\/\//i;
const V4L2_DEVICE = /^\/dev\/(video\d+$|v4l\/)/;
/** An element name, its properties, then "!": "v4l2src device=/dev/video0 ! ...", "videotestsrc!appsink". */
const GSTREAMER_PIPELINE = /^[a-z][\w-]*(\s+[\w:-]+=("[^"]*"|'[^']*'|[^\s!]+))*\s*!/i;

/**
 * Tells what a camera path (the original sample's CAMERA_PATH) names: `testsrc` or `testpattern`, an rtsp/http/rtmp/...
 * URL, a V4L2 device (/dev/videoN, /dev/v4l/...), a GStreamer pipeline (an element, then "!"), else a video file.
 * overrideType forces the type where the guess would be wrong (a camera at /dev/mycam, a file named like a pipeline).
 */
export function resolveSource(cameraPath: string, overrideType: SourceTypeOverride = 'auto'): SourceDescription {
  if (!SOURCE_TYPE_OVERRIDES.includes(overrideType)) {
    throw new VideoSourceError(`unknown source type ${overrideType}: use one of ${SOURCE_TYPE_OVERRIDES.join(', ')}`);
  }
  const value = cameraPath.trim();
  const type = overrideType === 'auto' ? guessType(value) : overrideType;
  // A URL is no file name: taken for one, it would fail as "video file not found".
  if (overrideType === 'auto' && type === 'file' && ANY_URL.test(value)) {
    throw new VideoSourceError(
      `${maskCredentials(value)} is a URL of a protocol capture does not recognise (${urlScheme(value)}): use ${STREAM_SCHEMES.join(', ')}, or CAPTURE_SOURCE=stream for another that ffmpeg reads`,
    );
  }
  if (value.length === 0 && type !== 'testpattern') {
    throw new VideoSourceError('the camera path is empty: give a video file, /dev/videoN, a GStreamer pipeline, a stream URL or testsrc');
  }
  switch (type) {
    case 'file':
      return { type, path: value };
    case 'v4l2':
      return { type, device: value };
    case 'gstreamer':
      return { type, pipeline: value };
    case 'stream':
      if (!ANY_URL.test(value)) throw new VideoSourceError(`not a stream URL (protocol://...): ${maskCredentials(value)}`);
      return { type, url: value };
    case 'testpattern':
      return { type };
  }
}

function guessType(cameraPath: string): SourceType {
  if (TEST_PATTERN_NAMES.has(cameraPath)) return 'testpattern';
  if (STREAM_PROTOCOLS.test(cameraPath)) return 'stream';
  if (V4L2_DEVICE.test(cameraPath)) return 'v4l2';
  if (GSTREAMER_PIPELINE.test(cameraPath)) return 'gstreamer';
  return 'file';
}

export interface FrameSourceOptions extends OutputShape {
  /** Goes into every frame header (default: the file's or device's name, else the source type). */
  sourceId?: string;
  /** file: start over at the end of the file (default true). */
  loop?: boolean;
  /** file, testpattern: release frames at the source's own rate, like a camera (default true). */
  realtime?: boolean;
  /** file: the file as probed moments ago (prepareSource's probe), so its start does not run ffprobe again. */
  probed?: VideoInfo;
  /** file, v4l2, stream, testpattern: the ffmpeg executable (default: on PATH, else npm's; see defaultFfmpegPath). */
  ffmpegPath?: string;
  /** gstreamer: the gst-launch-1.0 executable (default: on PATH). */
  gstLaunchPath?: string;
  /** v4l2: the pixel format asked of the camera (default: the one it is set to). */
  v4l2InputFormat?: V4l2InputFormat;
  /** stream, RTSP only: 'tcp' (default) or 'udp'. */
  rtspTransport?: 'tcp' | 'udp';
  /** stream, HTTP(S) only: 'auto' (default) or 'mjpeg', bare JPEGs (StreamFormat). */
  streamFormat?: StreamFormat;
  /** stream: seconds without data before ffmpeg gives up (default 10). */
  streamTimeoutSeconds?: number;
  /**
   * Says whether a frame's memory handed out earlier is still read downstream (the frames transport's `holds`). Given,
   * the source cuts frames into a small ring of reused buffers instead of allocating one per frame; without it, a
   * consumer may keep frames as long as it likes.
   */
  bufferHeld?: BufferHeld;
  /** Told of the decoder's warnings and errors once frames flow (DecoderMessageListener). */
  onDecoderMessage?: DecoderMessageListener;
  /** file: told once of a frame size that changes mid-file (VideoFileSourceOptions.onWarning). */
  onWarning?: (message: string) => void;
  /** stream, v4l2, gstreamer: the setting that gave the URL, device or pipeline (CAMERA_PATH, a twin's source), named where its failure is the setting's to fix. */
  setting?: string;
}

/** A source for what resolveSource described; nothing runs until its start() or frames(). */
export function createFrameSource(description: SourceDescription, options: FrameSourceOptions = {}): FrameSource {
  const { sourceId, width, height, fps, pixelFormat, crop, bufferHeld, onDecoderMessage, ffmpegPath = defaultFfmpegPath() } = options;
  const shape: OutputShape = { width, height, fps, pixelFormat, crop };
  switch (description.type) {
    case 'file':
      return new VideoFileSource({ path: description.path, sourceId, loop: options.loop, realtime: options.realtime, probed: options.probed, framesSent: true, ffmpegPath, bufferHeld, onDecoderMessage, onWarning: options.onWarning, ...shape });
    case 'gstreamer': {
      const failureAdvice = gstreamerFailureAdvice(options.setting, description.pipeline);
      return new GstreamerPipelineSource({ pipeline: description.pipeline, sourceId, gstLaunchPath: options.gstLaunchPath, bufferHeld, onDecoderMessage, failureAdvice, ...shape });
    }
    case 'v4l2': {
      const { device } = description;
      const buildInput = () => v4l2Input(device, { ...shape, inputFormat: options.v4l2InputFormat });
      const failureAdvice = v4l2FailureAdvice(device, options.setting, options.v4l2InputFormat);
      return new FfmpegSource({ sourceId: sourceId ?? basename(device), label: `V4L2 camera ${device}`, shape, ffmpegPath, buildInput, live: true, bufferHeld, onDecoderMessage, failureAdvice });
    }
    case 'stream': {
      const { url } = description;
      const { rtspTransport, streamFormat: format = 'auto', streamTimeoutSeconds: timeoutSeconds } = options;
      if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) throw new VideoSourceError(`the stream timeout must be a positive number of seconds, got ${timeoutSeconds}`);
      const buildInput = (ffmpegMajorVersion: number) => streamInput(url, { ...shape, rtspTransport, format, timeoutSeconds, ffmpegMajorVersion });
      const streamAdvice = streamFailureAdvice(url, options.setting, rtspTransport);
      // Read as bare JPEGs already, a stream failing so is not one the setting mends (a login page fails alike).
      const splitAdvice: FailureAdviser = format === 'auto' ? mjpegSplitAdvice(url, options.setting) : () => undefined;
      const failureAdvice: FailureAdviser = (lastWords, framesDecoded) => streamAdvice(lastWords, framesDecoded) ?? splitAdvice(lastWords, framesDecoded);
      return new FfmpegSource({ sourceId: sourceId ?? 'stream', label: `stream ${url}`, shape, ffmpegPath, buildInput, live: true, bufferHeld, onDecoderMessage, failureAdvice });
    }
    case 'testpattern': {
      const buildInput = () => testPatternInput({ ...shape, realtime: options.realtime });
      // A crop is of the pattern at its own size, whatever size it is drawn at uncropped.
      const picture = { width: TEST_PATTERN_DEFAULTS.width, height: TEST_PATTERN_DEFAULTS.height };
      return new FfmpegSource({ sourceId: sourceId ?? 'testpattern', label: TEST_PATTERN_LABEL, shape, ffmpegPath, buildInput, picture, live: options.realtime ?? true, bufferHeld, onDecoderMessage });
    }
  }
}

/**
 * Checks that the decoder a source needs (ffmpeg, or gst-launch-1.0 for a pipeline) runs, failing with what to
 * install. A missing decoder is a configuration error even for a camera or stream that is retried when down.
 */
export async function ensureDecoderInstalled(description: SourceDescription, options: FrameSourceOptions = {}): Promise<void> {
  const tool = description.type === 'gstreamer' ? gstLaunchTool(options.gstLaunchPath ?? 'gst-launch-1.0') : ffmpegTool(options.ffmpegPath ?? defaultFfmpegPath());
  await ensureToolRuns(tool);
}
