import { type DecoderCommand, DecoderSource, type FailureAdviser } from './decoder-source';
import { ensureToolRuns, ffmpegTool } from './decoder-tools';
import { type FfmpegInput, launchFfmpeg, useFfmpegPath } from './ffmpeg-command';
import { pictureSizeAt } from './crop';
import { ffmpegMajorVersion, ffmpegOutputFormatReader, framesAsDecoded } from './ffmpeg-tools';
import type { BufferHeld } from './frame-ring';
import { DEFAULT_DECODED_FORMAT, type DecoderMessageListener, type FrameSize, type OutputShape } from './frame-source';

export interface FfmpegSourceSettings {
  sourceId: string;
  label: string;
  shape: OutputShape;
  ffmpegPath: string;
  /** What ffmpeg reads, given the installed ffmpeg's major version. */
  buildInput(ffmpegMajorVersion: number): FfmpegInput;
  /** The picture a crop is of, where known in advance (the test pattern's); else ffmpeg's filters tell it (pictureSizeAt). */
  picture?: FrameSize;
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
    const { ffmpegPath, buildInput, picture, shape } = this.settings;
    const tool = ffmpegTool(ffmpegPath);
    const version = await ensureToolRuns(tool);
    useFfmpegPath(ffmpegPath);
    const pixelFormat = shape.pixelFormat ?? DEFAULT_DECODED_FORMAT;
    const built = buildInput(ffmpegMajorVersion(version));
    const input = { ...built, pixelFormat, outputOptions: [...(built.outputOptions ?? []), ...framesAsDecoded(version)] };
    const pictureSize = picture ?? ((line: string) => pictureSizeAt(line, shape.crop !== undefined));
    return { tool, frameFormat: ffmpegOutputFormatReader(undefined, shape.crop), pictureSize, pixelFormat, launch: (listeners) => launchFfmpeg(input, listeners) };
  }
}
