import { type FfmpegInput, rawVideoArgs } from './ffmpeg-command';
import { rateAndSizeFilters } from './ffmpeg-tools';
import { type OutputShape, scaledSize } from './frame-source';

export interface TestPatternOptions extends OutputShape {
  /** Release frames at the pattern's rate, like a camera (default true); false: as fast as the consumer takes them. */
  realtime?: boolean;
}

export const TEST_PATTERN_DEFAULTS = { width: 640, height: 480, fps: 30 } as const;

/** How its errors name it. */
export const TEST_PATTERN_LABEL = 'test pattern';

/**
 * ffmpeg generating its moving `testsrc2` pattern (colour bars, a counter, a moving gradient); a lone side is completed
 * at 4:3. Drawn at the size asked, but for a crop, which is of the pattern at its own 640x480, then scaled as asked.
 */
export function testPatternInput({ width, height, fps, crop, realtime = true }: TestPatternOptions): FfmpegInput {
  const rate = fps ?? TEST_PATTERN_DEFAULTS.fps;
  const inputOptions = [...(realtime ? ['-re'] : []), '-f', 'lavfi'];
  if (crop) return { inputOptions, input: `testsrc2=size=${TEST_PATTERN_DEFAULTS.width}x${TEST_PATTERN_DEFAULTS.height}:rate=${rate}`, videoFilters: rateAndSizeFilters({ width, height, crop }) };
  const size = scaledSize(TEST_PATTERN_DEFAULTS, { width, height });
  const pattern = `testsrc2=size=${size.width}x${size.height}:rate=${rate}`;
  // testsrc2 draws 4:2:0 at even sides only (asked for 65x49 it writes 64x48): an odd side is reached by scaling.
  const oddSide = size.width % 2 === 1 || size.height % 2 === 1;
  return { inputOptions, input: pattern, videoFilters: oddSide ? [`scale=${size.width}:${size.height}`] : [] };
}

/** The ffmpeg command line for the test pattern (see testPatternInput). */
export function buildTestPatternArgs(options: TestPatternOptions): string[] {
  return rawVideoArgs(testPatternInput(options));
}
