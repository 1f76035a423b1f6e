import { type FrameHeader, MAX_DIMENSION, PixelFormat } from '@iev/frame-protocol';
import type { Crop } from './crop';
import { VideoSourceError } from './video-source-error';

export interface CapturedFrame {
  header: FrameHeader;
  /** As the header says (BGR24 or I420), pixelByteLength(header) bytes. May be a view into a larger chunk of the decoder's output; copy it to keep it long. */
  pixels: Buffer;
}

export interface FrameSourceStats {
  /** Frames cut from the decoder's output so far; also the next frame's sequence number. */
  framesDecoded: number;
  /** Live sources: frames replaced by a newer one before the consumer took them. */
  framesDropped: number;
  /** Bytes read from the decoder's output. */
  bytesRead: number;
}

/**
 * Told of each warning or error a source's decoder writes once frames flow (a corrupt frame, packets lost on a
 * stream), tidied and with credentials masked. Those before the first frame explain a failure and go into its error.
 */
export type DecoderMessageListener = (message: string) => void;

export interface FrameSize {
  width: number;
  height: number;
}

/**
 * The raw formats a decoder is asked for: BGR24, what the models read, or I420, half the bytes to carry, which ffmpeg
 * decodes H.264 and most cameras into before converting (the consumers convert it where they read it).
 */
export type DecodedFormat = PixelFormat.BGR24 | PixelFormat.I420;

/** The decoded formats by the names settings give them. */
export const DECODED_FORMAT_NAMES = { i420: PixelFormat.I420, bgr24: PixelFormat.BGR24 } as const satisfies Record<string, DecodedFormat>;

/** The frames' pixel format where none is asked for. */
export const DEFAULT_DECODED_FORMAT: DecodedFormat = PixelFormat.BGR24;

/** Size, rate and format of the frames handed out, made inside the decoder so Node never touches discarded pixels. */
export interface OutputShape {
  /** Output width in pixels; given alone, the height follows the source's aspect ratio. */
  width?: number;
  /** Output height in pixels; given alone, the width follows the source's aspect ratio. */
  height?: number;
  /** The most frames a second handed out; frames are dropped inside the decoder (a slower source keeps its own rate). */
  fps?: number;
  /** ffmpeg's sources (default DEFAULT_DECODED_FORMAT); a GStreamer pipeline's frames are BGR24 whatever is asked. */
  pixelFormat?: DecodedFormat;
  /** The region of the source's picture kept, before width and height scale it; nothing outside it is converted or sent. */
  crop?: Crop;
}

/**
 * Where raw frames come from: a video file, a camera, a GStreamer pipeline, a network stream, a test pattern.
 * A source runs once: start() (or the first frames() step) launches its decoder, stop() or leaving the frames() loop
 * ends it; to retry after a failure, create a new source.
 */
export interface FrameSource {
  /** Goes into every frame header. */
  readonly sourceId: string;
  /** What the source reads, as named in its errors (credentials in URLs masked). */
  readonly label: string;
  /**
   * True for a camera, a stream, or a file played at its own rate: frames come at the source's pace whether taken or
   * not, and frames() yields the newest, dropping those not taken in time. False for a file played as fast as it is
   * read: it decodes only as its consumer takes frames, each in turn.
   */
  readonly live: boolean;
  readonly stats: FrameSourceStats;
  /**
   * The displayed size of the picture the source reads, before any crop or scale, once its decoder has told it
   * (undefined before, or where it cannot): what a crop of it must fit.
   */
  readonly pictureSize?: FrameSize;
  /** Checks the tools, probes where needed and launches the decoder. Safe to call more than once. */
  start(): Promise<void>;
  /** Ends the decoder and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void>;
  /**
   * The frames, in order, for a single consumer. Ends only when a file played once ends, or on stop(); rejects with a
   * VideoSourceError naming the source and the decoder's last words when the decoder fails or a live input ends.
   */
  frames(): AsyncGenerator<CapturedFrame, void, undefined>;
}

/** Throws a VideoSourceError unless every given dimension is a positive integer and the rate a positive number. */
export function assertValidShape(shape: OutputShape): void {
  for (const side of ['width', 'height'] as const) {
    const value = shape[side];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new VideoSourceError(`${side} must be a positive integer, got ${value}`);
    }
  }
  if (shape.fps !== undefined && !(Number.isFinite(shape.fps) && shape.fps > 0)) {
    throw new VideoSourceError(`fps must be a positive number, got ${shape.fps}`);
  }
  if (shape.pixelFormat !== undefined && !Object.values<PixelFormat>(DECODED_FORMAT_NAMES).includes(shape.pixelFormat)) {
    throw new VideoSourceError(`frames are decoded to BGR24 or I420, not pixel format ${shape.pixelFormat}`);
  }
}

/**
 * Throws a VideoSourceError for frames no consumer can be sent (frame-protocol refuses a side over MAX_DIMENSION): a
 * source streaming them would look up while every send failed. A lone side completed from a very wide picture gets there.
 */
export function assertSendableSize({ width, height }: FrameSize, label: string): void {
  if (width <= MAX_DIMENSION && height <= MAX_DIMENSION) return;
  throw new VideoSourceError(`${label}: frames of ${width}x${height} are larger than ${MAX_DIMENSION} a side, the most a frame may be: ask for a smaller size (CAPTURE_WIDTH, CAPTURE_HEIGHT)`);
}

/** The requested size, completing a lone side from the source's aspect ratio; the source's own size when none is. */
export function scaledSize(source: FrameSize, requested: OutputShape): FrameSize {
  const { width, height } = requested;
  if (width && height) return { width, height };
  if (width) return { width, height: Math.max(1, Math.round((width * source.height) / source.width)) };
  if (height) return { width: Math.max(1, Math.round((height * source.width) / source.height)), height };
  return { width: source.width, height: source.height };
}
