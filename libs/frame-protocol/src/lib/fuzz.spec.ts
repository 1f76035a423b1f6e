import { makeDetections, makeFrame, seededRandom } from '../test-support/samples';
import { detectionsCodec } from './detections-codec';
import { frameCodec } from './frame-codec';
import { minStride, pixelByteLength } from './pixel-format';
import { ProtocolError, type ProtocolErrorCode } from './protocol-error';
import type { Codec } from './types';

const ITERATIONS = 20_000;

/** Builds hostile inputs: pure noise, and valid messages with bytes flipped, cut or appended. */
function hostileParts(random: () => number, valid: Buffer[]): Buffer[] {
  const int = (below: number) => Math.floor(random() * below);
  const noise = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
  switch (int(3)) {
    case 0:
      return Array.from({ length: int(4) }, () => noise(int(96)));
    case 1:
      return valid.map((part) => {
        const mutated = Buffer.from(part);
        for (let flips = 1 + int(4); flips > 0 && mutated.length > 0; flips--) mutated[int(Math.min(mutated.length, 64))] = int(256);
        return mutated;
      });
    default: {
      const parts = valid.map((part) => Buffer.from(part));
      const target = int(parts.length);
      parts[target] = random() < 0.5 ? parts[target].subarray(0, int(parts[target].length)) : Buffer.concat([parts[target], noise(1 + int(8))]);
      return parts;
    }
  }
}

function fuzz<T>(codec: Codec<T>, valid: Buffer[], seed: number, checkAccepted: (value: T) => void): Set<ProtocolErrorCode> {
  const random = seededRandom(seed);
  const codes = new Set<ProtocolErrorCode>();
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const parts = hostileParts(random, valid);
    try {
      checkAccepted(codec.decode(parts));
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        throw new Error(`seed ${seed}, iteration ${iteration}: ${String(error)} for parts ${parts.map((part) => part.toString('hex')).join(' | ')}`);
      }
      codes.add(error.code);
    }
  }
  return codes;
}

describe('decoding hostile bytes', () => {
  it('frameCodec throws only ProtocolError and never returns an inconsistent frame', () => {
    const codes = fuzz(frameCodec, frameCodec.encode(makeFrame({ sourceId: 'cam' }, 2)), 0x5eed, (frame) => {
      expect(frame.stride).toBeGreaterThanOrEqual(minStride(frame.pixelFormat, frame.width));
      expect(frame.pixels.length).toBe(pixelByteLength(frame));
      expect(Number.isSafeInteger(frame.sequence)).toBe(true);
    });

    expect([...codes].sort()).toEqual(['BAD_MAGIC', 'BAD_PART_COUNT', 'INVALID_FIELD', 'LENGTH_MISMATCH', 'TRUNCATED', 'UNSUPPORTED_VERSION', 'WRONG_KIND']);
  });

  it('detectionsCodec throws only ProtocolError and never returns a malformed box', () => {
    const codes = fuzz(detectionsCodec, detectionsCodec.encode(makeDetections()), 0xd37ec7, (detections) => {
      for (const box of detections.boxes) {
        expect(box.points).toHaveLength(4);
        expect(box.points.flat().every(Number.isSafeInteger)).toBe(true);
        expect(Number.isFinite(box.score)).toBe(true);
      }
    });

    expect([...codes].sort()).toEqual(['BAD_MAGIC', 'BAD_PART_COUNT', 'INVALID_FIELD', 'INVALID_JSON', 'TRUNCATED', 'UNSUPPORTED_VERSION', 'WRONG_KIND']);
  });
});
