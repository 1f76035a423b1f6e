import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

// Inputs with one picture; anything else ffmpeg reads is a video, written frame by frame.
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

/** The file at `path` as the filesystem knows it (device and inode), whatever path, link or letter case leads to it. */
function fileIdentity(path: string): string | undefined {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stats && `${stats.dev}:${stats.ino}`;
}

/**
 * Makes the folder `--annotate` names (and those above it), or throws naming the flag: a file in its place would
 * otherwise fail as a bare EEXIST or ENOTDIR, and only after the models had loaded.
 */
export function makeAnnotateFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST') throw new Error(`--annotate: ${dir} is a file, not a folder`);
    if (code === 'ENOTDIR') throw new Error(`--annotate: ${dir} is not a folder: part of its path is a file`);
    throw new Error(`--annotate: cannot make the folder ${dir}: ${message}`);
  }
}

/**
 * Where `--annotate DIR` writes: `<name>.jpg` for an image (the first page of a multi-page TIFF or animated WebP,
 * `<name>-<page>.jpg` for the others), `<name>-<frame>.jpg` for each frame of a video. It
 * refuses to write over any of the inputs (`DIR/photo.jpg` when DIR holds the input photo.jpg) rather than naming
 * its files apart: no naming scheme is safe from every name an input folder may hold.
 */
export class AnnotatedFiles {
  private readonly written = new Map<string, string>();
  /** Each input file's identity (fileIdentity), to the path it was given by. */
  private readonly inputs = new Map<string, string>();

  constructor(
    private readonly dir: string,
    inputs: readonly string[],
  ) {
    makeAnnotateFolder(dir);
    for (const input of inputs) {
      const identity = fileIdentity(input);
      if (identity !== undefined) this.inputs.set(identity, input);
    }
  }

  write(input: string, frame: number, jpeg: Buffer): string {
    const name = basename(input, extname(input));
    const picture = IMAGE_EXTENSIONS.has(extname(input).toLowerCase()) && frame === 0;
    const path = join(this.dir, picture ? `${name}.jpg` : `${name}-${String(frame).padStart(6, '0')}.jpg`);
    const earlier = this.written.get(path);
    if (earlier !== undefined && earlier !== input) throw new Error(`--annotate: ${earlier} and ${input} would both be written to ${path}`);
    const identity = fileIdentity(path);
    const overwritten = identity === undefined ? undefined : this.inputs.get(identity);
    if (overwritten !== undefined) throw new Error(`--annotate: ${input} would be written to ${path}, over the input ${overwritten}: give --annotate another folder`);
    this.written.set(path, input);
    writeFileSync(path, jpeg);
    return path;
  }
}
