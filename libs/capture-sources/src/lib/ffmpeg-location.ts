import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join } from 'node:path';

/** Static ffmpeg / ffprobe builds on npm, one optional package per platform (ffmpeg 4.1 for linux x64/arm64 and macOS). */
export const NPM_FFMPEG = '@ffmpeg-installer/ffmpeg';
export const NPM_FFPROBE = '@ffprobe-installer/ffprobe';

/**
 * The binary a package like @ffmpeg-installer/ffmpeg installed for this platform, or undefined when it is not
 * installed or has no build for this platform. Resolved from this code's folder up: the workspace's node_modules,
 * also for a bundle in dist/. The name is passed, not imported, so neither webpack nor the bundles' package.json take
 * the packages in: they are dev dependencies for machines without ffmpeg, and the module images get ffmpeg from Debian.
 */
export function npmBinary(packageName: string, from = __dirname): string | undefined {
  try {
    return (createRequire(join(from, 'noop.js'))(packageName) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** Whether an executable `name` is in one of PATH's folders. */
export function isOnPath(name: string, pathVariable = process.env['PATH'] ?? ''): boolean {
  return pathVariable
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return statSync(join(dir, name)).isFile();
      } catch {
        return false;
      }
    });
}

export interface FfmpegLookup {
  pathVariable?: string;
  /** The npm ffmpeg's path, if installed. */
  npmFfmpeg?: () => string | undefined;
}

/**
 * The ffmpeg to run when none is configured (FFMPEG_PATH, which wins over both): the system's on PATH, else the one
 * npm installed, else plain `ffmpeg`, which then fails saying what to install.
 */
export function defaultFfmpegPath({ pathVariable, npmFfmpeg = () => npmBinary(NPM_FFMPEG) }: FfmpegLookup = {}): string {
  if (isOnPath('ffmpeg', pathVariable)) return 'ffmpeg';
  return npmFfmpeg() ?? 'ffmpeg';
}

/** ffprobe from the same place as ffmpeg: on PATH for `ffmpeg`, npm's for npm's ffmpeg, else beside it. */
export function ffprobePathFor(ffmpegPath: string, npm = { ffmpeg: () => npmBinary(NPM_FFMPEG), ffprobe: () => npmBinary(NPM_FFPROBE) }): string {
  if (basename(ffmpegPath) === ffmpegPath) return 'ffprobe';
  const beside = join(dirname(ffmpegPath), 'ffprobe');
  return ffmpegPath === npm.ffmpeg() ? (npm.ffprobe() ?? beside) : beside;
}
