import { join } from 'node:path';
import type { Quad } from '../geometry/polygon-iou';
import { evaluateDetections, inDontCare, matchBoxes, type FrameDetections } from './icdar-detection';
import { readTextFrameSet } from './text-frame-set';

const framesDir = join(__dirname, '../../../../../testdata/text-frames');

/** Ground truth and the original sample's own boxes for one development set. */
function seedFrames(set: string): FrameDetections[] {
  return readTextFrameSet(join(framesDir, set)).map((frame) => ({ gt: frame.truth, detections: frame.reference ?? [] }));
}

const square = (x: number, y: number, size: number): Quad => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
];

describe('evaluateDetections', () => {
  it.each([
    ['dev-a', 0.744, 0.889, 0.81],
    ['dev-b', 0.944, 1.0, 0.971],
  ])("reproduces the original sample's published scores on %s", (set, precision, recall, hmean) => {
    const scores = evaluateDetections(seedFrames(set));
    expect(scores.precision).toBeCloseTo(precision, 3);
    expect(scores.recall).toBeCloseTo(recall, 3);
    expect(scores.hmean).toBeCloseTo(hmean, 3);
  });

  it('counts totals over all frames', () => {
    const scores = evaluateDetections(seedFrames('dev-a'));
    expect(scores).toMatchObject({ matched: 128, detections: 172, groundTruth: 144 });
  });

  it('matches each line at most once: a duplicate detection is a false positive', () => {
    const line = square(0, 0, 10);
    const scores = evaluateDetections([{ gt: [line], detections: [square(0, 0, 10), square(1, 0, 10)] }]);
    expect(scores).toMatchObject({ matched: 1, detections: 2, groundTruth: 1, precision: 0.5, recall: 1 });
  });

  it('gives a detection to the line it overlaps most, so a neighbour can still match', () => {
    // Taken in input order, the first detection would claim the first line (IoU 0.54) and leave the second
    // detection nothing; by IoU it pairs with the second line (0.82) and the exact detection takes the first.
    const lines = [square(0, 0, 10), square(4, 0, 10)];
    const detections = [square(3, 0, 10), square(0, 0, 10)];
    expect(evaluateDetections([{ gt: lines, detections }]).matched).toBe(2);
  });

  it('does not match below the IoU threshold', () => {
    // Shifted by half its width: IoU 1/3.
    const frame = { gt: [square(0, 0, 10)], detections: [square(5, 0, 10)] };
    expect(evaluateDetections([frame]).matched).toBe(0);
    expect(evaluateDetections([frame], 0.3).matched).toBe(1);
  });

  it('scores zero, not NaN, when nothing is there or nothing is found', () => {
    expect(evaluateDetections([])).toEqual({ precision: 0, recall: 0, hmean: 0, matched: 0, detections: 0, groundTruth: 0 });
    expect(evaluateDetections([{ gt: [square(0, 0, 10)], detections: [] }]).hmean).toBe(0);
  });
});

describe('matchBoxes', () => {
  it('counts reference boxes matched one-to-one at the given IoU', () => {
    const reference = [square(0, 0, 10), square(20, 0, 10), square(40, 0, 10)];
    const ours = [square(0, 0, 10), square(20.2, 0, 10), square(45, 0, 10)];
    expect(matchBoxes(reference, ours, 0.9)).toBe(2);
    expect(matchBoxes(reference, ours, 0.3)).toBe(3);
  });
});

describe('inDontCare', () => {
  it("leaves out a detection more than half of whose area lies inside a don't-care line, in either winding", () => {
    const unreadable = [square(0, 0, 10)];
    expect(inDontCare(square(0, 0, 10), unreadable)).toBe(true);
    // 6 of its 10 columns inside: 60 %.
    expect(inDontCare(square(4, 0, 10), unreadable)).toBe(true);
    expect(inDontCare([...square(4, 0, 10)].reverse(), [[...unreadable[0]].reverse()])).toBe(true);
    // Exactly half inside is not more than half.
    expect(inDontCare(square(5, 0, 10), unreadable)).toBe(false);
    // A box around the whole line (a quarter of it inside) is still scored.
    expect(inDontCare(square(0, 0, 20), unreadable)).toBe(false);
    expect(inDontCare(square(0, 0, 10), [])).toBe(false);
  });
});
