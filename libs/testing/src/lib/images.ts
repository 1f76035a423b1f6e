import { spawnSync } from 'node:child_process';

/** An image file decoded by ffmpeg to tightly packed BGR (what capture hands inference), as an ImageView. */
export function readBgrImage(path: string, width: number, height: number): { data: Uint8Array; width: number; height: number; stride: number } {
  const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], { maxBuffer: 64 << 20 });
  if (decoded.status !== 0) throw new Error(`ffmpeg could not decode ${path}: ${decoded.stderr}`);
  return { data: decoded.stdout, width, height, stride: width * 3 };
}
