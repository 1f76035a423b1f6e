/** Pixel layouts a frame may carry. BGR24 is what OpenCV (and so the original sample) hands the model. */
export enum PixelFormat {
  BGR24 = 1,
  RGB24 = 2,
  GRAY8 = 3,
  /**
   * Planar YUV 4:2:0 as decoders put out H.264 and most cameras (of the header's colorMatrix and range): half the bytes
   * of BGR24. Rows of Y of `stride` bytes, then the U plane and the V plane, each of ceil(height / 2) rows of
   * ceil(stride / 2) bytes (i420Planes).
   */
  I420 = 4,
}

/**
 * The matrix a YUV frame's colours were encoded with, by its code in ITU-T H.273 (MatrixCoefficients), which H.264,
 * ffmpeg and GStreamer tag streams with. HD cameras and streams are BT.709; SD ones and JPEG are BT.601.
 */
export enum ColorMatrix {
  BT709 = 1,
  BT601 = 6,
  /** BT.2020's non-constant-luminance matrix. */
  BT2020 = 9,
}

export interface FrameHeader {
  /** Which camera/stream this frame came from (e.g. "camera0"). */
  sourceId: string;
  /** Monotonic per source, starting at 0; a gap seen by a consumer means frames were skipped. */
  sequence: number;
  /** Epoch milliseconds (fractional) when the frame left the decoder. */
  captureTimeMs: number;
  width: number;
  height: number;
  /** Bytes per row (I420: per row of Y); >= minStride(pixelFormat, width). */
  stride: number;
  pixelFormat: PixelFormat;
  /**
   * YUV frames: the matrix their colours were encoded with (protocol version 3). Absent where the source does not say:
   * read as BT.601, as swscale and OpenCV do.
   */
  colorMatrix?: ColorMatrix;
  /**
   * YUV frames: true where Y, U and V span 0-255 (JPEG's range, some IP cameras' H.264), not 16-235 and 16-240; absent,
   * limited range (protocol version 3).
   */
  fullRange?: boolean;
}

export interface Frame extends FrameHeader {
  /** The pixel bytes: pixelByteLength(header), stride * height but for I420. A view into the received message, never a copy. */
  pixels: Uint8Array;
}

export type Point = [number, number];

export interface DetectedBox {
  /** Four integer points, clockwise from top-left, in the frame's own pixels. */
  points: [Point, Point, Point, Point];
  score: number;
  /** The line's text, when recognition read it (protocol version 2). */
  text?: string;
  /** Mean probability of the text's characters (0-1), with `text`. */
  textScore?: number;
  /**
   * The line this box shows, as inference's line tracker follows it across the source's frames: the same id while the
   * line is followed (and once revived), never another line's within the publishing run (`Detections.runId`). Absent
   * where nothing follows lines (detection only, REC_REFRESH_MS=0, a module older than the field).
   */
  lineId?: number;
}

/** What recognition did with a frame's boxes. */
export interface LineCounts {
  /** Boxes whose line went to the recognition model with this frame. */
  read: number;
  /** Boxes that carried the text of a line read before. */
  carried: number;
  /** Boxes left out for reading below the minimum score. */
  dropped: number;
  /**
   * For each line whose first read shows with this frame: milliseconds of video since the line first appeared (its
   * text waited that long behind other reads). Absent where nothing new was read.
   */
  textAfterMs?: number[];
}

/** Milliseconds spent in each stage for one frame. */
export interface StageTimings {
  /** Capture's publish to inference's receipt (encode, socket, decode). */
  transportMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  /** Reading the boxes' text, when recognition ran (version 2). */
  recognizeMs?: number;
}

export interface Detections {
  frame: Pick<FrameHeader, 'sourceId' | 'sequence' | 'captureTimeMs'>;
  width: number;
  height: number;
  /** Model identity, e.g. "ch_pp_inf_dynamic@7ceb8792". */
  modelId: string;
  boxes: DetectedBox[];
  timings: StageTimings;
  /** What recognition did with this frame's boxes, when it ran (version 2): read by the model, carried from an earlier frame, dropped below the minimum score. */
  lines?: LineCounts;
  /**
   * Boxes detected in this frame and left out, their centre in an ignore region of the camera (RegionsAnnouncement).
   * Came later in version 2: absent from an older inference, and where the camera has no regions.
   */
  ignored?: number;
  /** Epoch milliseconds when inference handed the message to the socket. */
  publishedAtMs: number;
  /** The publishing process's run (a new one at each start): line ids are unique within a run, and restart with it. */
  runId?: string;
}

/**
 * The cameras the module that publishes detections decodes itself (inference with CAPTURE_SOURCES), announced when
 * they change and every `repeatMs`, so that a subscriber that joined late or missed one learns them all the same.
 * Sent only by a module that owns its cameras: with capture modules (one per camera) nobody does, and a preview falls
 * back on a camera's silence.
 */
export interface SourcesAnnouncement {
  /**
   * The announcing process's run (a new one at each start): a camera counts as removed only when an announcement of
   * the same run leaves out one it listed, not when a restarted module has yet to re-add its twin's cameras.
   */
  runId: string;
  /** Every camera it decodes now, each once; one the run listed and leaves out now was removed. */
  sourceIds: string[];
  /** The announcement comes again within this long while the module runs (ms). */
  repeatMs: number;
  /**
   * The list holds every camera the module's configuration names: its twin's desired properties at start-up applied,
   * or no twin to wait for. A camera an earlier run listed and a complete list leaves out was removed while no run
   * announced. False from a module older than the field (it is not sent), as before the twin is applied.
   */
  complete: boolean;
  /**
   * Cameras this run removed and has not listed since, the newest MAX_ANNOUNCED_REMOVALS: a subscriber that joined
   * after the removal (or heard the camera's frames before any list) refuses what of them is still on its way, as
   * one that saw the camera listed and then left out does. Not sent where there are none, nor by an older module.
   */
  removed?: string[];
}

/**
 * A part of a camera's picture whose text is not wanted (inference's IGNORE_REGIONS): its own clock overlay, a logo, a
 * camera name. A box whose centre lies inside is dropped before tracking and reading. The centre, not most of the
 * box's area: an overlay's box lies wholly inside the region drawn round it, and a longer line only touching the region
 * (a sign beside the clock) keeps being read; and it is one point per box, however the detector's quads tilt.
 */
export interface IgnoreRegion {
  /** `fraction`: of the frame's width and height (0 to 1), whatever size a camera is scaled to; `pixel`: of the frame inference receives. */
  unit: 'fraction' | 'pixel';
  /** The outline: a rectangle's four corners, or a polygon's points, in order. */
  points: readonly (readonly [number, number])[];
}

/** The key of the ignore regions that hold for every camera without a key of its own. */
export const EVERY_CAMERA = '*';

/**
 * The ignore regions inference applies, all cameras' (IGNORE_REGIONS, CAPTURE_SOURCES entries' own lists or the
 * twin's), announced when they change and every `repeatMs`: a region list is no part of each frame's detections, and
 * a subscriber that joined late (a preview started after inference) learns them all the same.
 */
export interface RegionsAnnouncement {
  /** Region lists by SOURCE_ID, EVERY_CAMERA for a camera without a key of its own; `{}`: none anywhere. */
  regions: Record<string, IgnoreRegion[]>;
  /** The announcement comes again within this long while the module runs (ms). */
  repeatMs: number;
}

/** Encodes a value of T into ZeroMQ message parts and back. Decoding throws ProtocolError on bad input. */
export interface Codec<T> {
  encode(value: T): Buffer[];
  decode(parts: Buffer[]): T;
}
