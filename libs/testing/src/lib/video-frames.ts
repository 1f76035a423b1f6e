import { spawnSync } from 'node:child_process';

/** A decoded frame as the models take it (BGR24, rows packed), and its time from the start of what was decoded. */
export interface VideoFrame {
  image: { data: Uint8Array; width: number; height: number; stride: number };
  timeS: number;
}

/**
 * Frames decoded by ffmpeg at `fps`, `width`×`height` BGR24: `input` is ffmpeg's input arguments (`['-ss', '6.5', '-t',
 * '3', '-i', video]`, or a lavfi source), `filters` any filters before the rate (a drawtext overlay).
 */
export function videoFrames(input: readonly string[], { width, height, fps, filters = [] }: { width: number; height: number; fps: number; filters?: readonly string[] }): VideoFrame[] {
  const vf = [...filters, `fps=${fps}`, `scale=${width}:${height}`].join(',');
  const decoded = spawnSync('ffmpeg', ['-v', 'error', ...input, '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], { maxBuffer: 1 << 30 });
  if (decoded.status !== 0) throw new Error(`ffmpeg could not decode ${input.join(' ')}: ${decoded.stderr}`);
  const frameBytes = width * height * 3;
  return Array.from({ length: Math.floor(decoded.stdout.length / frameBytes) }, (_, k) => ({
    image: { data: decoded.stdout.subarray(k * frameBytes, (k + 1) * frameBytes), width, height, stride: width * 3 },
    timeS: k / fps,
  }));
}
