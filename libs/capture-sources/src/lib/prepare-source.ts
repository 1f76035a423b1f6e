import { access } from 'node:fs/promises';
import { cameraDeviceAdvice } from './camera-device-advice';
import { assertCropInside, type Crop, cropRegion, cropSetting, parseCrop } from './crop';
import { assertSendableSize, type FrameSize, type FrameSource, type OutputShape, scaledSize } from './frame-source';
import { assertFfmpegCanOpen } from './ffmpeg-host-names';
import { defaultFfmpegPath } from './ffmpeg-location';
import { probeVideo, type VideoInfo } from './ffmpeg-tools';
import { buildGstLaunchArgs } from './gstreamer-source';
import { warnIfGstLaunchOutlivesThisProcess } from './parent-death';
import { createFrameSource, ensureDecoderInstalled, resolveSource, type FrameSourceOptions, type SourceDescription, type SourceTypeOverride } from './resolve-source';
import { settingBeside } from './setting-beside';
import { isHttpUrl, urlScheme } from './stream-url';
import { TEST_PATTERN_DEFAULTS, TEST_PATTERN_LABEL } from './test-pattern-input';
import { assertIsFile, filePicture } from './video-file-source';
import { VideoSourceError } from './video-source-error';

/** What a user sets per source (CAMERA_PATH and CAPTURE_*, or a module twin's desired properties); 0 leaves a dimension to the source. */
export interface SourceSettings {
  source: string;
  fps: number;
  width: number;
  height: number;
  /** The region kept, as cropVariable reads it (canonical: the same region is the same text); empty for the whole picture. */
  crop: string;
}

/** Whether two sources' settings are the same: a source made from either is the same source. */
export function sameSettings(a: SourceSettings | undefined, b: SourceSettings): boolean {
  return a !== undefined && a.source === b.source && a.fps === b.fps && a.width === b.width && a.height === b.height && a.crop === b.crop;
}

/** The displayed size of a source's picture before crop and scale, and how its errors name the source. */
export interface KnownPicture {
  size: FrameSize;
  label: string;
}

export interface PreparedSource {
  description: SourceDescription;
  /** What it was prepared from. */
  settings: SourceSettings;
  /** Its crop, read, naming the setting that gave it. */
  crop?: Crop;
  /** With a crop, its picture where known before it starts (a video file's, the test pattern's), for the crop to be checked against. */
  picture?: KnownPicture;
  /** A fresh source each call: a failed source is replaced, not restarted. */
  create(): FrameSource;
}

/**
 * Resolves a camera path with the frame size and rate, and checks what can be checked before the source starts: a
 * GStreamer pipeline is one capture can run, the decoder is installed, a video file is one ffprobe reads, a stream's
 * host name is one the ffmpeg can look up; with requireCamera, a V4L2 device exists. At start-up a failure stops the
 * module (a camera that is not plugged in yet is waited for); for a twin patch it rejects the change, a missing camera
 * included, and the running source stays. The twin's first document after start-up does not require the camera: after
 * a restart it is the module's configuration, and a camera unplugged then is waited for, as at start-up, rather than
 * keeping the rest of the document from applying.
 * `setting` names where the source came from (`CAMERA_PATH`, a twin's `source`) in the errors about it, and
 * `cropSetting` where its crop did (default: the crop beside it, cropSetting), which may be another (a twin's `source`
 * with CAPTURE_CROP's crop); `logger` is told, once a process, where a GStreamer pipeline would outlive the module
 * killed unseen.
 */
export async function prepareSource(
  settings: SourceSettings,
  options: FrameSourceOptions & { sourceType?: SourceTypeOverride },
  {
    setting,
    cropSetting: cropNamed = cropSetting(setting),
    requireCamera = false,
    logger,
  }: { setting: string; cropSetting?: string; requireCamera?: boolean; logger?: { warn(message: string): void } },
): Promise<PreparedSource> {
  const { sourceType, ...common } = options;
  let description: SourceDescription;
  try {
    description = resolveSource(settings.source, sourceType);
  } catch (error) {
    throw namingSetting(setting, error);
  }
  const sourceOptions: FrameSourceOptions = {
    ...common,
    setting,
    width: settings.width || undefined,
    height: settings.height || undefined,
    fps: settings.fps || undefined,
    crop: parseCrop(settings.crop, cropNamed),
  };
  // Before the decoder: a pipeline capture cannot run is wrong wherever GStreamer is installed.
  if (description.type === 'gstreamer') assertRunnablePipeline(description.pipeline, sourceOptions, setting);
  if (sourceOptions.streamFormat === 'mjpeg') assertHttpStream(description, setting);
  await ensureDecoderInstalled(description, sourceOptions);
  let probed: VideoInfo | undefined;
  if (description.type === 'file') {
    const { path } = description;
    // Probed as the source's start would: a file that is no video (a text file, a truncated .mp4) stops start-up or
    // rejects a twin patch here, naming the setting, rather than failing when the source starts.
    probed = await assertIsFile(path)
      .then(() => probeVideo(path, sourceOptions.ffmpegPath ?? defaultFfmpegPath()))
      .catch((error: unknown) => {
        throw namingSetting(setting, error);
      });
  }
  // Only for a crop: a still picture's upright size takes another ffprobe run.
  const picture = sourceOptions.crop ? await knownPicture(description, probed, sourceOptions.ffmpegPath ?? defaultFfmpegPath()) : undefined;
  if (description.type === 'stream') {
    await assertFfmpegCanOpen(description.url, sourceOptions.ffmpegPath ?? defaultFfmpegPath()).catch((error: unknown) => {
      throw namingSetting(setting, error);
    });
  }
  if (description.type === 'v4l2' && requireCamera) {
    await access(description.device).catch(() => {
      throw namingSetting(setting, new Error(cameraDeviceAdvice.absent(description.device)));
    });
  }
  if (logger) await warnIfGstLaunchOutlivesThisProcess(description.type, logger);
  return {
    description,
    settings,
    crop: sourceOptions.crop,
    picture,
    create: () => {
      // The first source takes the probe just made; one made later (a restart) probes afresh: the file may have changed.
      const source = createFrameSource(description, { ...sourceOptions, probed });
      probed = undefined;
      return source;
    },
  };
}

/**
 * prepareSource for a module's own configuration at start-up (CAMERA_PATH, a CAPTURE_SOURCES entry): a crop its
 * picture known before it starts (a video file's, the test pattern's) does not hold stops start-up too, naming the
 * setting and the picture's size (assertCropFitsKnownPicture). The test pattern would otherwise be retried at the
 * longest wait for good, as a camera is, though only a new setting mends it.
 */
export async function prepareStartupSource(
  settings: SourceSettings,
  options: FrameSourceOptions & { sourceType?: SourceTypeOverride },
  naming: { setting: string; logger?: { warn(message: string): void } },
): Promise<PreparedSource> {
  const prepared = await prepareSource(settings, options, naming);
  assertCropFitsKnownPicture(prepared);
  return prepared;
}

/**
 * The picture a crop is of where its size is known before the source starts: a video file's (probed; a still
 * picture's upright) and the test pattern's. A camera's or stream's only its decoder tells; a pipeline's crop is
 * checked against its caps with the pipeline.
 */
async function knownPicture(description: SourceDescription, probed: VideoInfo | undefined, ffmpegPath: string): Promise<KnownPicture | undefined> {
  if (description.type === 'file' && probed) return { size: (await filePicture(description.path, ffmpegPath, probed)).shown, label: description.path };
  if (description.type === 'testpattern') return { size: { width: TEST_PATTERN_DEFAULTS.width, height: TEST_PATTERN_DEFAULTS.height }, label: TEST_PATTERN_LABEL };
  return undefined;
}

/**
 * Throws assertCropFitsPicture's error where the source's picture is known before it starts (PreparedSource.picture)
 * and its crop does not fit it: switched to, it would fail at each start until the settings changed, a twin's switch
 * to it retried for good.
 */
export function assertCropFitsKnownPicture({ crop, picture, settings }: { crop?: Crop; picture?: KnownPicture; settings?: SourceSettings }): void {
  if (crop && picture) assertCropFitsPicture(crop, settings, picture.size, picture.label);
}

/**
 * Throws, naming `label`, where the crop's region is not inside `picture` (assertCropInside: the setting and the
 * size), or is, but scaled as `settings` ask (a lone side completed from the region's shape: a thin strip made tall)
 * makes frames larger than a frame may be (assertSendableSize), which the source fails with at each start.
 */
export function assertCropFitsPicture(crop: Crop, settings: Pick<SourceSettings, 'width' | 'height'> | undefined, picture: FrameSize, label: string): void {
  assertCropInside(crop, picture, label);
  assertSendableSize(scaledSize(cropRegion(crop, picture), { width: settings?.width, height: settings?.height }), label);
}

/** The error again with the setting's name in front: "CAMERA_PATH: video file not found: ...". */
function namingSetting(setting: string, error: unknown): VideoSourceError {
  return new VideoSourceError(`${setting}: ${(error as Error).message}`);
}

/**
 * CAPTURE_STREAM_FORMAT=mjpeg is an HTTP(S) camera's, and refused for any other source rather than ignored: set for a
 * V4L2 camera it was likely meant as CAPTURE_V4L2_FORMAT, and set in inference's environment, which every
 * CAPTURE_SOURCES entry inherits, it belongs in its camera's entry instead.
 */
function assertHttpStream(description: SourceDescription, setting: string): void {
  if (description.type === 'stream' && isHttpUrl(description.url)) return;
  const kind = description.type === 'stream' ? `a stream over ${urlScheme(description.url).toLowerCase()}` : SOURCE_KINDS[description.type];
  throw new VideoSourceError(`${settingBeside(setting, 'CAPTURE_STREAM_FORMAT')}=mjpeg reads an HTTP(S) stream as bare JPEGs, and ${setting} names ${kind}: set it to auto for this source`);
}

const SOURCE_KINDS: Record<Exclude<SourceDescription['type'], 'stream'>, string> = {
  file: 'a video file',
  v4l2: 'a V4L2 camera (CAPTURE_V4L2_FORMAT=mjpeg asks one for MJPEG)',
  gstreamer: 'a GStreamer pipeline',
  testpattern: 'the test pattern',
};

/**
 * Throws what the source's own start would (buildGstLaunchArgs: an unclosed quote, a sink other than appsink, ...),
 * naming the capture module's setting: a source that can never start would otherwise be retried for good; so is a
 * crop the pipeline cannot take.
 */
function assertRunnablePipeline(pipeline: string, shape: OutputShape, setting: string): void {
  try {
    buildGstLaunchArgs(pipeline, { ...shape, crop: undefined });
  } catch (error) {
    // Not as the cause: its message, all it says, would then be logged twice.
    throw new VideoSourceError(`${setting} is not a pipeline capture can run: ${(error as Error).message}`);
  }
  // A crop the pipeline cannot take names its own setting.
  buildGstLaunchArgs(pipeline, shape);
}
