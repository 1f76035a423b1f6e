import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { PixelFormat } from '@iev/frame-protocol';
import { maskCredentials } from '@iev/service-runtime';
import { type DecoderCommand, type DecoderLineListeners, DecoderSource, type FailureAdviser, type FrameFormatReader, type LaunchedDecoder } from './decoder-source';
import { cameraDeviceAdvice } from './camera-device-advice';
import { assertCropInside, type Crop, cropRegion } from './crop';
import { ensureToolRuns, gstLaunchTool } from './decoder-tools';
import { frameSocketPath, PipeFrameOutput, removeFrameSocket, SocketFrameOutput } from './frame-output';
import type { BufferHeld } from './frame-ring';
import { type DecoderMessageListener, type FrameSize, type OutputShape, scaledSize } from './frame-source';
import { boundToThisProcess } from './parent-death';
import { VideoSourceError } from './video-source-error';

export interface GstLaunchPlan {
  /** gst-launch-1.0's arguments: the pipeline as separate words, as a shell would pass them. */
  args: string[];
  /** Known from the pipeline's caps or the requested shape; undefined when only negotiation will tell. */
  frameSize: FrameSize | undefined;
}

/** Our sink's name, so its caps line can be told apart in -v output. */
const FRAMES_SINK = 'iev_frames';
/**
 * The frames go to a descriptor of their own, never stdout: plugins print there (a Jetson's nvarguscamerasrc its
 * "GST_ARGUS: ..." lines), and -v its caps.
 */
const FRAMES_FD = 3;

/**
 * Turns an OpenCV-style GStreamer pipeline (ending in `appsink`, with any properties) into a gst-launch-1.0 command
 * that writes raw BGR frames to a file descriptor: converts to BGR unless the pipeline ends in BGR caps already,
 * crops (cropElements) and scales inside GStreamer as requested (the rate is GstreamerPipelineSource's to limit), and fixes the output size
 * whenever it is known (from the request or the pipeline's last caps with a width, a height and square pixels, where
 * nothing after them may change it: squareSizeAtTheEnd), so a frame is always exactly that many bytes; pixels that are
 * not square are made square unless CAPTURE_WIDTH and CAPTURE_HEIGHT both ask for a size (sizeElements).
 */
export function buildGstLaunchArgs(pipeline: string, shape: OutputShape): GstLaunchPlan {
  const elements = splitUnquoted(pipeline, '!', false).map((element) => element.trim());
  if (elements.some((element) => element.length === 0)) throw new VideoSourceError(`GStreamer pipeline has an empty element: ${maskCredentials(pipeline)}`);
  const last = elements[elements.length - 1];
  if (/^appsink\b/.test(last)) elements.pop();
  else if (/^\w*sink\b/.test(last)) throw new VideoSourceError(`GStreamer pipeline must end in appsink (or in the element that makes the frames), not ${maskCredentials(last)}`);
  if (elements.length === 0) throw new VideoSourceError(`GStreamer pipeline has no source element: ${maskCredentials(pipeline)}`);

  // Right after the caps that give the size, before a conversion the pipeline ends in (the sample's own `... !
  // videoconvert ! video/x-raw,format=BGR`), which would otherwise convert the whole picture.
  if (shape.crop) elements.splice((sizedCapsAtTheEnd(elements) ?? elements.length - 1) + 1, 0, ...cropElements(shape.crop, elements));
  if (!isBgrCaps(elements[elements.length - 1])) elements.push('videoconvert', 'video/x-raw,format=BGR');
  // As requested, completed from the pipeline's own caps; held by videoscale whenever known.
  const pipelineSize = squareSizeAtTheEnd(elements);
  const frameSize = pipelineSize ? scaledSize(pipelineSize, shape) : shape.width && shape.height ? { width: shape.width, height: shape.height } : undefined;
  elements.push(...sizeElements({ ...shape, ...frameSize }));
  elements.push(`fdsink name=${FRAMES_SINK} fd=${FRAMES_FD}`);

  // -v prints the negotiated caps on stdout, where the size is read from when the pipeline does not fix it.
  const words = elements.flatMap((element, index) => [...(index > 0 ? ['!'] : []), ...splitUnquoted(element, /\s/, true).filter(Boolean)]);
  return { args: [frameSize ? '-q' : '-v', ...words], frameSize };
}

/**
 * Reads the size from gst-launch -v's line for our sink's caps, e.g.
 * ".../GstFdSink:iev_frames.GstPad:sink: caps = video/x-raw, format=(string)BGR, width=(int)320, height=(int)240, ...".
 */
export const readNegotiatedSize: FrameFormatReader = (line) => {
  if (!line.includes(`GstFdSink:${FRAMES_SINK}.GstPad:sink: caps = `)) return undefined;
  const width = /\bwidth=\(int\)(\d+)/.exec(line);
  const height = /\bheight=\(int\)(\d+)/.exec(line);
  return width && height ? { width: Number(width[1]), height: Number(height[1]) } : undefined;
};

/**
 * videocrop for the crop, before the conversion to BGR, so that only its region is converted and scaled: its sides
 * in the pipeline's stored pixels, from the size its caps fix (sizeAtTheEnd), as displayed by their pixel-aspect-ratio
 * (taken as square where they give none), then caps that say the region's size with square pixels. Throws a VideoSourceError
 * naming the crop's setting where the caps fix no size (GStreamer has no crop by position and size alone, and its
 * auto-crop would renegotiate the camera's own size to fit) or the region is not inside the picture.
 */
function cropElements(crop: Crop, elements: string[]): string[] {
  const stored = sizeAtTheEnd(elements);
  if (!stored) {
    throw new VideoSourceError(
      `${crop.setting} crops a GStreamer pipeline only where its caps fix the picture's size, and these do not: end it in caps with a width and height (... ! video/x-raw,width=1920,height=1080 ! appsink), or crop in the pipeline itself (videocrop)`,
      true,
    );
  }
  const pixelAspect = stored.pixelAspect ?? 1;
  const shown = { width: Math.round(stored.width * pixelAspect), height: stored.height };
  assertCropInside(crop, shown, 'GStreamer pipeline');
  const region = cropRegion(crop, shown);
  // Both edges rounded, not the left edge and the width: each rounded up, they could end a pixel past the picture, a
  // right side of -1, which videocrop reads as its auto-crop.
  const left = Math.round(region.x / pixelAspect);
  const right = stored.width - Math.min(stored.width, Math.round((region.x + region.width) / pixelAspect));
  const sides = `left=${left} top=${region.y} right=${right} bottom=${stored.height - region.y - region.height}`;
  // Caps that give no pixel-aspect-ratio let the source's own through (an analog card's 10:11), which the square caps
  // after the crop refuse unless videoscale stands between them; it passes square pixels on untouched.
  const squared = stored.pixelAspect === 1 ? [] : ['videoscale'];
  return [`videocrop ${sides}`, ...squared, `video/x-raw,width=${region.width},height=${region.height},pixel-aspect-ratio=1/1`];
}

/** Elements that hand frames on at the size they get them: format converters, queues, a rate limit. */
const SIZE_KEEPING = /^(?:videoconvert|autovideoconvert|queue2?|videorate|identity)(?:\s|$)/;

/**
 * The size the pipeline's last caps with a size fix, where only caps and elements that keep the size follow them:
 * one that may change it (videoflip or nvvidconv flip-method turning a quarter, videocrop) would otherwise have its
 * picture squashed back into the size of the caps before it. Undefined there, and where those caps leave the pixels'
 * shape to the source (an analog capture card's 720x480 may come at 10:11): the size is then read as negotiated.
 */
function squareSizeAtTheEnd(elements: string[]): FrameSize | undefined {
  const size = sizeAtTheEnd(elements);
  return size?.pixelAspect === 1 ? { width: size.width, height: size.height } : undefined;
}

/** The size the pipeline's last caps with a size fix where nothing after them may change it, as squareSizeAtTheEnd, with their pixels' shape. */
function sizeAtTheEnd(elements: string[]): ReturnType<typeof capsSize> {
  const index = sizedCapsAtTheEnd(elements);
  return index === undefined ? undefined : capsSize(elements[index]);
}

/** Where the caps of sizeAtTheEnd stand in the pipeline. */
function sizedCapsAtTheEnd(elements: string[]): number | undefined {
  for (let index = elements.length - 1; index >= 0; index--) {
    if (capsSize(elements[index])) return index;
    if (!isCaps(elements[index]) && !SIZE_KEEPING.test(elements[index])) return undefined;
  }
  return undefined;
}

/**
 * A caps element ("video/x-raw, width=640, height=480", "video/x-raw(memory:NVMM), width=(int)1920, ...") with a fixed
 * size; with its pixel-aspect-ratio as a number where it gives one (1 for square pixels, squareSizeAtTheEnd).
 */
function capsSize(element: string): (FrameSize & { pixelAspect?: number }) | undefined {
  if (!isCaps(element)) return undefined;
  const width = capsField(element, 'width');
  const height = capsField(element, 'height');
  const aspect = /^(\d+)\/(\d+)$/.exec(capsField(element, 'pixel-aspect-ratio')?.replace(/\s/g, '') ?? '');
  const pixelAspect = aspect && Number(aspect[1]) > 0 && Number(aspect[2]) > 0 ? Number(aspect[1]) / Number(aspect[2]) : undefined;
  return width && /^\d+$/.test(width) && height && /^\d+$/.test(height) ? { width: Number(width), height: Number(height), ...(pixelAspect !== undefined && { pixelAspect }) } : undefined;
}

function isBgrCaps(element: string): boolean {
  return isCaps(element) && capsField(element, 'format') === 'BGR';
}

function isCaps(element: string): boolean {
  return /^[a-z]+\/[\w.+-]+(\([^)]*\))?\s*(,|$)/i.test(element);
}

/** A field's value with any "(type)" prefix and quotes taken off. */
function capsField(caps: string, name: string): string | undefined {
  const field = new RegExp(`,\\s*${name}\\s*=\\s*(?:\\(\\w+\\)\\s*)?"?([^,"]*)"?\\s*(?=,|$)`).exec(caps);
  return field?.[1].trim();
}

/**
 * videoscale, then caps that fix whichever sides are given, and ask for square pixels unless both are given (then that
 * size, whatever the picture's shape). So a pipeline whose pixels are not square (a decoded stream or capture card at
 * 10:11, HDV's 1440x1080 at 4:3) hands on its frames as displayed, not squeezed, the width changed as ffmpeg's sources
 * change it; and a lone side follows the displayed aspect, where videoscale would otherwise keep the other side and
 * widen or narrow the pixels. Square pixels pass videoscale untouched.
 */
function sizeElements({ width, height }: OutputShape): string[] {
  const fields = [...(width ? [`width=${width}`] : []), ...(height ? [`height=${height}`] : []), ...(width && height ? [] : ['pixel-aspect-ratio=1/1'])];
  return ['videoscale', ['video/x-raw', 'format=BGR', ...fields].join(',')];
}

/** Splits text at separators outside single or double quotes; unquote drops the quote marks from the parts, as a shell does. */
function splitUnquoted(text: string, separator: string | RegExp, unquote: boolean): string[] {
  const isSeparator = (char: string) => (typeof separator === 'string' ? char === separator : separator.test(char));
  const parts: string[] = [];
  let part = '';
  let quote: string | undefined;
  for (const char of text) {
    if (quote ? char === quote : char === '"' || char === "'") {
      quote = quote ? undefined : char;
      if (!unquote) part += char;
    } else if (!quote && isSeparator(char)) {
      parts.push(part);
      part = '';
    } else {
      part += char;
    }
  }
  if (quote) throw new VideoSourceError(`GStreamer pipeline has an unclosed ${quote}: ${maskCredentials(text)}`);
  parts.push(part);
  return parts;
}

export interface GstreamerPipelineSourceOptions extends OutputShape {
  pipeline: string;
  /** Goes into every frame header (default 'gstreamer'). */
  sourceId?: string;
  /** See FrameSourceOptions.bufferHeld. */
  bufferHeld?: BufferHeld;
  onDecoderMessage?: DecoderMessageListener;
  /** The gst-launch-1.0 executable (default: on PATH). */
  gstLaunchPath?: string;
  /** See DecoderSourceSettings.failureAdvice (gstreamerFailureAdvice). */
  failureAdvice?: FailureAdviser;
}

/**
 * Advice on a pipeline's failure, naming the setting that gave it (CAMERA_PATH, a CAPTURE_SOURCES entry, a twin's
 * source): an element GStreamer does not have (a typo, a plugin not installed, a Jetson's off a Jetson) cannot start
 * until one changes, so it is retried at the longest interval; a v4l2src camera gets the words ffmpeg's V4L2 source
 * gets. Undefined for words it does not know: GStreamer's own say more than a guess. `pipeline`, the setting's own:
 * an element missing from it is the setting's to correct, one buildGstLaunchArgs adds (videoconvert, videoscale) is
 * GStreamer's base plugins' to install.
 */
export function gstreamerFailureAdvice(setting = 'the pipeline', pipeline?: string): FailureAdviser {
  const named = pipeline === undefined ? undefined : splitUnquoted(pipeline, '!', false).map((element) => element.trim().split(/\s+/)[0]);
  return (lastWords) => {
    const element = /no element "([^"]+)"/.exec(lastWords)?.[1];
    if (element && named && !named.includes(element)) {
      const text = `GStreamer has no element ${element}, which capture adds to the pipeline to convert and scale its frames: install GStreamer's base plugins (gstreamer1.0-plugins-base; gst-inspect-1.0 ${element} finds it once installed)`;
      return { text, awaitsSettings: true };
    }
    if (element) {
      const text = `GStreamer has no element ${element}: correct its name in ${setting}, or install the plugin that has it (gst-inspect-1.0 ${element} finds it once installed; nvarguscamerasrc and nvvidconv come with a Jetson's JetPack)`;
      return { text, awaitsSettings: true };
    }
    const missing = /Cannot identify device '([^']+)'/.exec(lastWords)?.[1];
    if (missing) return { text: cameraDeviceAdvice.missing(missing, setting), awaitsSettings: false };
    const busy = /Device '([^']+)' is busy/.exec(lastWords)?.[1];
    if (busy) return { text: cameraDeviceAdvice.busy(busy, setting), awaitsSettings: false };
    // Of a node that is there, why the open failed is in the debug info's "system error: ..." (DecoderLog keeps it):
    // a node left by a camera unplugged (ENXIO, ENODEV) is no matter of permission; EACCES and EPERM (a container's
    // device rules) are.
    const unopened = /Could not open device '([^']+)' for reading and writing\..*?\| system error: ([^|]+)/.exec(lastWords);
    if (unopened) {
      const [, device, reason] = unopened;
      if (/Permission denied|Operation not permitted/.test(reason)) return { text: cameraDeviceAdvice.notPermitted(device), awaitsSettings: false };
      if (/No such device/.test(reason)) return { text: cameraDeviceAdvice.goneAway(device), awaitsSettings: false };
      if (/Device or resource busy/.test(reason)) return { text: cameraDeviceAdvice.busy(device, setting), awaitsSettings: false };
    }
    const notACamera = /This isn't a device '([^']+)'|capabilities for device '([^']+)': It isn't a v4l2 driver/.exec(lastWords);
    if (notACamera) return { text: cameraDeviceAdvice.notACamera(notACamera[1] ?? notACamera[2], setting), awaitsSettings: false };
    return undefined;
  };
}

/**
 * Frames from a GStreamer pipeline run by gst-launch-1.0, given as OpenCV's CAP_GSTREAMER takes it (ending in
 * appsink). A pipeline that ends (EOS) has failed like a camera that stops: the caller decides whether to restart it.
 *
 * CAPTURE_FPS is limited here, as the frames arrive (DecoderSourceSettings.rateLimitFps), by the bucket ffmpeg's
 * sources run: GStreamer 1.22 has no element that only drops on every pipeline. videorate fixing the rate repeats
 * frames up to it (a 15 fps source at 30 sent each frame twice) and drops the second of two frames in one slot of
 * 1/fps (of a 30 fps HTTP MJPEG camera timed on arrival, at 30 on loaded cores, 101 of ~140 frames kept and 61
 * repeats sent); with drop-only it cannot link to a variable-rate
 * pipeline (framerate=0/1: an MJPEG camera's) with a rate in its caps, and aborts on one with max-rate
 * (gstvideorate.c:740, GST_BUFFER_DURATION_IS_VALID); max-rate alone or average-period let such a pipeline's 30 fps
 * through at 10. The cost: every frame is converted and scaled in GStreamer and crosses to capture, those over the rate
 * read from the frame socket into one buffer that is then reused (a 640x480 30 fps pipeline at 5: 42 ms of capture's
 * CPU a second, 227 read from a pipe in 64 KB chunks; docs/capture/gstreamer.md says how a fixed-rate pipeline can
 * drop first).
 */
export class GstreamerPipelineSource extends DecoderSource {
  constructor(private readonly options: GstreamerPipelineSourceOptions) {
    const { sourceId = 'gstreamer', pipeline, bufferHeld, onDecoderMessage, failureAdvice } = options;
    super({ sourceId, label: `GStreamer pipeline "${pipeline}"`, endOfInputIsNormal: false, live: true, shape: options, bufferHeld, rateLimitFps: options.fps, onDecoderMessage, failureAdvice });
  }

  protected override async prepare(): Promise<DecoderCommand> {
    const plan = buildGstLaunchArgs(this.options.pipeline, this.options);
    const tool = gstLaunchTool(this.options.gstLaunchPath ?? 'gst-launch-1.0');
    await ensureToolRuns(tool);
    const command = await boundToThisProcess(tool.path, plan.args);
    return { tool, frameFormat: plan.frameSize ?? readNegotiatedSize, pixelFormat: PixelFormat.BGR24, launch: (listeners) => spawnGstLaunch(command, listeners) };
  }
}

/**
 * Runs gst-launch-1.0 itself (fluent-ffmpeg runs only ffmpeg), by the command line that binds it to this process where
 * it can. Its frames go to a unix socket capture connects to itself and hands the other end of to gst-launch as fd 3
 * (fdsink), read without a chunk per read (SocketFrameOutput): frames over CAPTURE_FPS cost a read into one reused
 * buffer, no garbage; where there is no such socket to be had, through a pipe, each read a new chunk.
 */
function spawnGstLaunch(command: { path: string; args: string[] }, listeners: DecoderLineListeners): LaunchedDecoder {
  const socketPath = frameSocketPath('gst');
  if (!socketPath) {
    const child = spawnWithFramesTo(command, listeners, 'pipe');
    return { frames: new PipeFrameOutput(child.stdio[FRAMES_FD] as Readable), started: spawned(child), exited: closed(child) };
  }
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => (exit = resolve));
  void exited.then(() => removeFrameSocket(socketPath));
  const server = createServer();
  const started = new Promise<ChildProcess>((resolve, reject) => {
    server.once('error', (error) => {
      exit();
      reject(error);
    });
    server.once('connection', (framesEnd) => {
      server.close();
      removeFrameSocket(socketPath);
      try {
        const child = spawnWithFramesTo(command, listeners, framesEnd);
        void closed(child).then(exit);
        spawned(child).then(resolve, reject);
      } catch (error) {
        // Some failures spawn throws rather than emits (E2BIG: an argument past 128 KB); uncaught in this listener, they
        // would crash capture and leave the start unsettled.
        exit();
        reject(error);
      } finally {
        // gst-launch holds its own copy: the output ends as it exits.
        framesEnd.destroy();
      }
    });
    server.listen(socketPath);
  });
  return { frames: new SocketFrameOutput(socketPath, exited), started, exited };
}

function spawnWithFramesTo({ path, args }: { path: string; args: string[] }, listeners: DecoderLineListeners, frames: 'pipe' | Socket): ChildProcess {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe', frames] });
  // Both carry messages (-v's caps on stdout); both are read, also so the tool never blocks on a full pipe.
  forEachLine(child.stderr, listeners.onLogLine);
  forEachLine(child.stdout, listeners.onLogLine);
  return child;
}

/** 'error' stays listened to after the start, where rejecting does nothing, so a late one cannot go unhandled. */
const spawned = (child: ChildProcess) => new Promise<ChildProcess>((resolve, reject) => child.once('spawn', () => resolve(child)).on('error', reject));
/** 'close' comes after the exit and after every output has been read to its end, so every message line is delivered. */
const closed = (child: ChildProcess) => new Promise<void>((resolve) => child.once('close', () => resolve()));

/** Calls onLine with each line of a text output as it arrives. */
function forEachLine(output: Readable | null, onLine: (line: string) => void): void {
  if (output) createInterface({ input: output, crlfDelay: Infinity }).on('line', onLine);
}
