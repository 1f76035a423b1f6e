import { execFile } from 'node:child_process';
import { minStride, type PixelFormat } from '@iev/frame-protocol';
import { VideoSourceError } from './video-source-error';

/** An executable the sources run, and what to tell the user when it does not run. */
export interface ExternalTool {
  path: string;
  /** The argument that makes it print its version and exit: a cheap check that it runs at all. */
  versionFlag: string;
  installHint: string;
}

/** A tool that decodes a source into raw frames on one of its outputs. */
export interface DecoderTool extends ExternalTool {
  /** As named in messages. */
  name: string;
  /** The signal that makes it stop cleanly. */
  stopSignal: NodeJS.Signals;
  /** How long it gets to exit after stopSignal before it is sent SIGKILL. */
  killGraceMs: number;
  /** Bytes from the start of one row of a frame it writes to the start of the next (of I420: of its Y rows). */
  rowStride(width: number, pixelFormat: PixelFormat): number;
  /** A stderr line that says what went wrong, tidied for a message; undefined for progress and information. */
  notableLine(line: string): string | undefined;
}

// "[tcp @ 0x55d6e2500200] [error] Connection refused": the level that `-loglevel level+verbose` adds, after the
// components, none or several (a component logging for its parent: "[rawvideo @ 0x...] [IMGUTILS @ 0x...] [error] ...").
const FFMPEG_LEVELLED_LINE = /^(?:\[[^\]]* @ 0x[0-9a-f]+\] )*\[(warning|error|fatal|panic)\] (.*)$/;

// swscale's warning at every JPEG-coded source (MJPEG cameras and streams, JPEG files: full-range yuvj formats),
// whose range the frames carry all the same: quoted in a failure, it would send the reader after a range setting.
const SWSCALE_YUVJ_WARNING = /^deprecated pixel format used, make sure you did set range correctly$/;

/** What to do about a missing ffmpeg (or its ffprobe); FFMPEG_PATH is the capture module's name for ffmpegPath. */
export const FFMPEG_INSTALL_HINT = 'install ffmpeg (apt-get install ffmpeg; or npm ci, whose dev dependency @ffmpeg-installer/ffmpeg ships one) or point FFMPEG_PATH (ffmpegPath) at it';

export function ffmpegTool(path: string): DecoderTool {
  return {
    name: 'ffmpeg',
    path,
    stopSignal: 'SIGTERM',
    // ffmpeg closes its input and output within milliseconds; more than a second means it hangs on a dead device.
    killGraceMs: 1000,
    // rawvideo packs rows tightly, I420's chroma rows too.
    rowStride: (width, pixelFormat) => minStride(pixelFormat, width),
    versionFlag: '-version',
    installHint: FFMPEG_INSTALL_HINT,
    notableLine: (line) => {
      const message = FFMPEG_LEVELLED_LINE.exec(line)?.[2];
      return message && !SWSCALE_YUVJ_WARNING.test(message) ? message : undefined;
    },
  };
}

export function gstLaunchTool(path: string): DecoderTool {
  return {
    name: 'gst-launch-1.0',
    path,
    // gst-launch dies on SIGTERM but takes the pipeline down to NULL on SIGINT, closing devices properly: a Jetson's
    // Argus camera (nvarguscamerasrc) left open by a killed process cannot be opened again until nvargus-daemon restarts.
    stopSignal: 'SIGINT',
    // Taking an Argus pipeline down to NULL takes seconds; a SIGKILL before it has closed the camera is what SIGINT avoids.
    killGraceMs: 5000,
    // GStreamer's raw video rows start on 4-byte boundaries, and fdsink writes the buffers, padding and all. Its I420
    // pads chroma rows and planes by other rules, so its sources are always asked for BGR24.
    rowStride: (width, pixelFormat) => (minStride(pixelFormat, width) + 3) & ~3,
    versionFlag: '--version',
    installHint: 'install GStreamer (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good) or point GST_LAUNCH_PATH (gstLaunchPath) at it',
    // gst-launch prints its own "ERROR: ..." / "WARNING: ..." lines, GLib its "...-CRITICAL **: ..." ones; why a system
    // call failed ("system error: Permission denied") is only in an ERROR's debug info, and tells what to do.
    notableLine: (line) => (/^(ERROR|WARNING)\b|^system error: |-(CRITICAL|WARNING) \*\*/.test(line) ? line : undefined),
  };
}

const toolChecks = new Map<string, Promise<string>>();

/** Runs the tool's version command once per path, so a missing install fails with a hint instead of a bare ENOENT; resolves to what it printed. */
export function ensureToolRuns(tool: ExternalTool): Promise<string> {
  let check = toolChecks.get(tool.path);
  if (!check) {
    check = new Promise<string>((resolve, reject) => {
      execFile(tool.path, [tool.versionFlag], (error, stdout) => {
        if (!error) return resolve(stdout);
        toolChecks.delete(tool.path);
        reject(new VideoSourceError(`cannot run ${tool.path} (${error.message.split('\n')[0]}): ${tool.installHint}`));
      });
    });
    toolChecks.set(tool.path, check);
  }
  return check;
}

/** How many notable lines a decoder's log keeps: enough for the reason, bounded for a source that runs for weeks. */
const KEPT_NOTABLE_LINES = 20;

/** The notable lines a decoder wrote on stderr, most recent last, to explain why it stopped. */
export class DecoderLog {
  private readonly lines: string[] = [];

  constructor(private readonly tool: DecoderTool) {}

  /** Keeps the line if it is notable; returns it tidied, or undefined for progress and information. */
  add(line: string): string | undefined {
    const notable = this.tool.notableLine(line.trim());
    if (!notable) return undefined;
    this.lines.push(notable);
    if (this.lines.length > KEPT_NOTABLE_LINES) this.lines.shift();
    return notable;
  }

  /** The last few notable lines joined into one, or a plain statement that there were none. */
  lastWords(count = 3): string {
    return this.lines.length > 0 ? this.lines.slice(-count).join(' | ') : `${this.tool.name} reported no error`;
  }
}
