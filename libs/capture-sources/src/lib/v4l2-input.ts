import { type FfmpegInput, rawVideoArgs } from './ffmpeg-command';
import { rateAndSizeFilters } from './ffmpeg-tools';
import type { OutputShape } from './frame-source';

export type V4l2InputFormat = 'mjpeg' | 'yuyv422';

export interface V4l2Options extends OutputShape {
  /** The pixel format asked of the camera; default: the one it is set to. */
  inputFormat?: V4l2InputFormat;
}

/**
 * ffmpeg capturing from a V4L2 camera. The size (without a crop) and rate are asked of the camera (which may pick the
 * nearest it supports) and also enforced by filters, so the frames have exactly the requested size, and at most the rate.
 */
export function v4l2Input(device: string, { inputFormat, width, height, fps, crop }: V4l2Options): FfmpegInput {
  const inputOptions = [
    ...['-f', 'v4l2'],
    ...(inputFormat ? ['-input_format', inputFormat] : []),
    // With a crop, the size asked is the crop's, not the camera's: it keeps the picture it is set to.
    ...(width && height && !crop ? ['-video_size', `${width}x${height}`] : []),
    ...(fps ? ['-framerate', String(fps)] : []),
    // Frame-threaded MJPEG decoding holds back a frame per thread: latency a live camera should not have.
    ...['-thread_type', 'slice'],
  ];
  return { inputOptions, input: device, videoFilters: rateAndSizeFilters({ width, height, fps, crop }) };
}

/** The ffmpeg command line for a V4L2 camera (see v4l2Input). */
export function buildV4l2Args(device: string, options: V4l2Options): string[] {
  return rawVideoArgs(v4l2Input(device, options));
}
