import { env, type EnvVar } from '@iev/service-runtime';
import type { FrameSize } from './frame-source';
import { settingBeside } from './setting-beside';
import { VideoSourceError } from './video-source-error';

/** One of a crop's values: whole pixels of the source's displayed picture, or a percentage of its width or height. */
export interface CropLength {
  value: number;
  unit: 'px' | '%';
}

/** The region of a source's picture to keep (CAPTURE_CROP), in its displayed pixels, before any scaling. */
export interface Crop {
  x: CropLength;
  y: CropLength;
  width: CropLength;
  height: CropLength;
  /** As set, in its canonical form (`960,540,25%,25%`), for errors. */
  text: string;
  /** The setting that gave it (CAPTURE_CROP, `CAPTURE_SOURCES[1] CAPTURE_CROP`, a twin's `crop`), named in its errors. */
  setting: string;
}

/** A region in whole pixels. */
export interface CropRegion extends FrameSize {
  x: number;
  y: number;
}

const FORMAT = 'x,y,width,height of the picture to keep, each in pixels or a percentage of its side (e.g. 960,540,960,540 or 50%,50%,50%,50%); empty for the whole picture';
const PIXELS = /^\d+$/;
const PERCENT = /^(\d+\.?\d*|\.\d+)%$/;

/**
 * Reads a crop's text (empty: the whole picture, undefined); throws an Error saying what is wrong. Pixels are whole
 * and a width or height at least 2 (the crop keeps an even number, below); percentages of a side from 0 to 100, a
 * width or height above 0, and a region given in percentages on both counts ends inside the picture.
 */
export function parseCrop(text: string, setting: string): Crop | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const parts = trimmed.split(',').map((part) => part.trim());
  if (parts.length !== 4) throw new Error(`must be ${FORMAT}`);
  const [x, y, width, height] = parts.map((part, index): CropLength => {
    const name = ['x', 'y', 'width', 'height'][index];
    if (PIXELS.test(part)) return { value: Number(part), unit: 'px' };
    const percent = PERCENT.exec(part);
    if (!percent) throw new Error(`must be ${FORMAT}: its ${name} ${JSON.stringify(part)} is neither`);
    const value = Number(percent[1]);
    if (value > 100) throw new Error(`must be ${FORMAT}: its ${name} is over 100%`);
    return { value, unit: '%' };
  });
  for (const [name, length] of [['width', width], ['height', height]] as const) {
    if (length.unit === 'px' ? length.value < 2 : length.value === 0) throw new Error(`must keep something: its ${name} must be at least 2 pixels or above 0%`);
  }
  for (const [name, start, length] of [['x', x, width], ['y', y, height]] as const) {
    if (start.unit === '%' && length.unit === '%' && start.value + length.value > 100) throw new Error(`must lie inside the picture: its ${name} and ${name === 'x' ? 'width' : 'height'} add up to over 100%`);
  }
  const canonical = [x, y, width, height].map(({ value, unit }) => `${value}${unit === '%' ? '%' : ''}`).join(',');
  return { x, y, width, height, text: canonical, setting };
}

/**
 * A crop setting (CAPTURE_CROP, a twin's `crop`), read as its canonical text: the same region always reads the same,
 * so a twin that sets it again changes nothing, and empty is the whole picture.
 */
export function cropVariable(name: string): EnvVar<string> {
  const text = env.string(name, '');
  return { ...text, description: 'x,y,width,height (pixels or %)', parse: (raw) => parseCrop(raw, name)?.text ?? '' };
}

/** Where a source's crop is set, for its errors: a twin's `crop` beside its `source`, else the variable beside CAMERA_PATH. */
export function cropSetting(sourceSetting: string): string {
  return sourceSetting === 'source' ? 'crop' : settingBeside(sourceSetting, 'CAPTURE_CROP');
}

/**
 * Each value rounded down to an even number of pixels: 4:2:0 video (nearly every camera and file, and the I420 frames
 * capture sends) holds its colour at every other pixel, and ffmpeg's crop moves an odd edge to an even one itself.
 */
const evenDown = (pixels: number) => 2 * Math.trunc(pixels / 2);

/** The crop's region of a picture of this displayed size, in its pixels (evenDown). */
export function cropRegion(crop: Crop, picture: FrameSize): CropRegion {
  const along = ({ value, unit }: CropLength, side: number) => evenDown(unit === '%' ? (side * value) / 100 : value);
  return { x: along(crop.x, picture.width), y: along(crop.y, picture.height), width: along(crop.width, picture.width), height: along(crop.height, picture.height) };
}

/**
 * Throws a VideoSourceError naming the setting and the picture's size unless the crop's region lies inside it and
 * keeps a pixel: ffmpeg's crop would move such a region back inside unsaid, or fail in words that name neither.
 * Retrying cannot mend it until the setting changes (or the camera's resolution does): awaitsSettings. `label`, the
 * source's, leads the message where nothing else puts it there.
 */
export function assertCropInside(crop: Crop, picture: FrameSize, label?: string): void {
  const region = cropRegion(crop, picture);
  if (region.width > 0 && region.height > 0 && region.x + region.width <= picture.width && region.y + region.height <= picture.height) return;
  throw new VideoSourceError(
    `${label ? `${label}: ` : ''}${crop.setting}=${crop.text} asks for ${region.width}x${region.height} at ${region.x},${region.y}, which is not inside the picture of ${picture.width}x${picture.height}: ` +
      `set ${crop.setting} to a region inside it (in percentages it fits any size)`,
    true,
  );
}

/**
 * ffmpeg's crop filter for it, in the displayed pixels of whatever picture reaches it (a camera or stream whose size
 * only ffmpeg learns): horizontal values are taken in `iw*sar` and handed to crop in stored pixels, so a source whose
 * pixels are not square (an analog encoder's 704x480 at 10:11) is cropped where it is shown; evenDown as cropRegion.
 */
export function cropFilter(crop: Crop): string {
  const even = ({ value, unit }: CropLength, side: string) => (unit === 'px' ? String(evenDown(value)) : `2*trunc(${side}*${value}/200)`);
  const across = (length: CropLength) => `${even(length, 'iw*sar')}/sar`;
  const down = (length: CropLength) => even(length, 'ih');
  return `crop=w=${across(crop.width)}:h=${down(crop.height)}:x=${across(crop.x)}:y=${down(crop.y)}`;
}

/**
 * "[Parsed_crop_1 @ 0x5602] [verbose] w:1920 h:1080 sar:1/1 -> w:960 h:540 sar:1/1", and the scale's alike
 * ("[Parsed_scale_2 @ 0x5602] [verbose] w:1920 h:1080 fmt:yuv420p sar:1/1 -> ...", ffmpeg 7 adding csp and range
 * before sar): the picture each is configured for, at each (re)configuration.
 */
const FILTER_INPUT_LINE = /^\[Parsed_(crop|scale)_\d+ @ 0x[0-9a-f]+\] \[verbose\] w:(\d+) h:(\d+) [^>]*?\bsar:(\d+)\/(\d+) -> /;

/**
 * The displayed size of the source's picture, from the line at level verbose of the filter that takes it whole in
 * rateAndSizeFilters' chain (after any turning by the file's rotation): the crop where there is one, else the scale
 * to the size asked; undefined for any other line. What a crop is checked against, before the first frame of a camera
 * or stream whose size nothing else tells in advance, and a new crop for the running source before it is switched to.
 */
export function pictureSizeAt(verboseLine: string, cropped: boolean): FrameSize | undefined {
  const configured = FILTER_INPUT_LINE.exec(verboseLine);
  if (!configured || (configured[1] === 'crop') !== cropped) return undefined;
  const [width, height, sarNum, sarDen] = configured.slice(2).map(Number);
  // An unknown shape (0/1) is square, as ffmpeg counts it.
  const pixelAspect = sarNum > 0 && sarDen > 0 ? sarNum / sarDen : 1;
  return { width: Math.round(width * pixelAspect), height };
}
