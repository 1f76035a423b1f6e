import { readdirSync, readFileSync } from 'node:fs';
import { waitUntil } from '@iev/testing';
import type { CapturedFrame, FrameSource } from '../lib/frame-source';

/** Reads up to count frames, then leaves the loop (which stops the source). */
export async function take(source: FrameSource, count: number): Promise<CapturedFrame[]> {
  const frames: CapturedFrame[] = [];
  if (count === 0) return frames;
  for await (const frame of source.frames()) {
    frames.push(frame);
    if (frames.length === count) break;
  }
  return frames;
}

/**
 * Pids of running processes whose executable's name ends with tool and whose arguments include argument; also while
 * the decoder's pid is still setpriv, about to exec it (`setpriv --pdeathsig KILL -- <tool> ...`).
 */
export function pidsRunning(tool: string, argument: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const command = argv[0].endsWith('setpriv') ? argv.slice(argv.indexOf('--') + 1) : argv;
        return command[0].endsWith(tool) && command.includes(argument);
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

/** The pixels' blue, green and red channels each within tolerance of the expected colour. */
export function isUniformBgr(pixels: Buffer, [blue, green, red]: [number, number, number], tolerance = 10): boolean {
  for (let offset = 0; offset < pixels.length; offset += 3) {
    const channels = [pixels[offset], pixels[offset + 1], pixels[offset + 2]];
    if (channels.some((value, channel) => Math.abs(value - [blue, green, red][channel]) > tolerance)) return false;
  }
  return true;
}

/** Every pixel of the frame's rows (its stride's padding left out) within tolerance of the expected colour. */
export function isUniformBgrFrame({ header, pixels }: CapturedFrame, colour: [number, number, number], tolerance = 10): boolean {
  const rowBytes = header.width * 3;
  for (let row = 0; row < header.height; row++) {
    if (!isUniformBgr(pixels.subarray(row * header.stride, row * header.stride + rowBytes), colour, tolerance)) return false;
  }
  return pixels.length === header.stride * header.height;
}

/** What a source fails with, each frame read until then handed to onFrame. */
export async function readUntilFailure(source: FrameSource, onFrame: (frame: CapturedFrame) => void = () => undefined): Promise<Error> {
  try {
    for await (const frame of source.frames()) onFrame(frame);
  } catch (error) {
    return error as Error;
  }
  throw new Error('frames() ended without an error');
}

/** Waits for a listening socket on 127.0.0.1:port, seen in /proc/net/tcp: connecting to check would use up ffmpeg's single client. */
export async function waitUntilListening(port: number): Promise<void> {
  const listening = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`;
  await waitUntil(() => readFileSync('/proc/net/tcp', 'utf8').includes(listening), `a server listening on port ${port}`, { timeoutMs: 5_000 });
}
