import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

// Inputs with one picture; anything else ffmpeg reads is a video, written frame by frame.
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

/** Where `--annotate DIR` writes: `<name>.jpg` for an image, `<name>-<frame>.jpg` for each frame of a video. */
export class AnnotatedFiles {
  private readonly written = new Map<string, string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  write(input: string, frame: number, jpeg: Buffer): string {
    const name = basename(input, extname(input));
    const path = join(this.dir, IMAGE_EXTENSIONS.has(extname(input).toLowerCase()) ? `${name}.jpg` : `${name}-${String(frame).padStart(6, '0')}.jpg`);
    const earlier = this.written.get(path);
    if (earlier !== undefined && earlier !== input) throw new Error(`--annotate: ${earlier} and ${input} would both be written to ${path}`);
    this.written.set(path, input);
    writeFileSync(path, jpeg);
    return path;
  }
}
