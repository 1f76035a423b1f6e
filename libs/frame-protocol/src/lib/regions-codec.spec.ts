import { makeDetections, rejectionOf } from '../test-support/samples';
import { detectionsCodec } from './detections-codec';
import { PREAMBLE_LENGTH } from './envelope';
import { regionsCodec } from './regions-codec';
import type { RegionsAnnouncement } from './types';

const announcement = (): RegionsAnnouncement => ({
  regions: {
    door: [{ unit: 'fraction', points: [[0.6, 0], [1, 0], [1, 0.05], [0.6, 0.05]] }],
    '*': [{ unit: 'pixel', points: [[560, 440], [640, 440], [640, 480]] }],
  },
  repeatMs: 1000,
});

/** An announcement whose JSON body is `json`, preamble kept valid. */
function withJson(json: unknown): Buffer[] {
  const [valid] = regionsCodec.encode(announcement());
  return [Buffer.concat([valid.subarray(0, PREAMBLE_LENGTH), Buffer.from(JSON.stringify(json))])];
}

describe('regionsCodec', () => {
  it('round-trips every camera\'s regions through one part, in the version that added the kind; none anywhere too', () => {
    const [part] = regionsCodec.encode(announcement());
    expect(part[4]).toBe(4);
    expect(regionsCodec.decode([part])).toEqual(announcement());
    expect(regionsCodec.decode(regionsCodec.encode({ regions: {}, repeatMs: 1000 }))).toEqual({ regions: {}, repeatMs: 1000 });
  });

  it('refuses a region no page could draw, naming where it is', () => {
    const region = (unit: unknown, points: unknown) => ({ regions: { door: [{ unit, points }] }, repeatMs: 1000 });
    expect(rejectionOf(regionsCodec, withJson(region('inch', [[0, 0], [1, 0], [1, 1]]))).message).toMatch(/regions\["door"\]\[0\]\.unit must be "fraction" or "pixel", got "inch"/);
    expect(rejectionOf(regionsCodec, withJson(region('pixel', [[0, 0], [1, 0]]))).message).toMatch(/regions\["door"\]\[0\]\.points must have at least 3 points, got 2/);
    expect(rejectionOf(regionsCodec, withJson(region('pixel', [[0, 0], [1, 0], [-1, 1]]))).message).toMatch(/regions\["door"\]\[0\]\.points\[2\]\[0\] must be >= 0/);
    expect(rejectionOf(regionsCodec, withJson({ regions: [], repeatMs: 1000 })).message).toMatch(/regions must be an object/);
  });

  it('takes a repeat of 1 ms to an hour, as the sources announcement does', () => {
    expect(regionsCodec.decode(regionsCodec.encode({ regions: {}, repeatMs: 3_600_000 })).repeatMs).toBe(3_600_000);
    expect(rejectionOf(regionsCodec, withJson({ regions: {}, repeatMs: 0 })).message).toMatch(/repeatMs must be within \[1, 3600000\], got 0/);
    expect(rejectionOf(regionsCodec, withJson({ regions: {}, repeatMs: 3_600_001 })).message).toMatch(/repeatMs must be within \[1, 3600000\], got 3600001/);
  });

  it("carries a frame's ignored boxes in its detections, a field an older reader drops and an older inference leaves out", () => {
    expect(detectionsCodec.decode(detectionsCodec.encode({ ...makeDetections(), ignored: 2 })).ignored).toBe(2);
    expect(detectionsCodec.decode(detectionsCodec.encode(makeDetections()))).not.toHaveProperty('ignored');
    expect(() => detectionsCodec.encode({ ...makeDetections(), ignored: -1 })).toThrow(/ignored must be within/);
  });
});
