import { MAX_COUNTED_GAP, SequenceGaps } from './sequence-gaps';

describe('SequenceGaps', () => {
  it('counts the frames between two sequence numbers as skipped', () => {
    const gaps = new SequenceGaps();
    expect(gaps.observe('cam', 0)).toBe(0);
    expect(gaps.observe('cam', 1)).toBe(0);
    expect(gaps.observe('cam', 5)).toBe(3);
  });

  it('keeps sources apart', () => {
    const gaps = new SequenceGaps();
    gaps.observe('a', 10);
    expect(gaps.observe('b', 0)).toBe(0);
    expect(gaps.observe('a', 12)).toBe(1);
  });

  it('treats a sequence going back as a restarted source, not a skip', () => {
    const gaps = new SequenceGaps();
    gaps.observe('cam', 100);
    expect(gaps.observe('cam', 0)).toBe(0);
    expect(gaps.observe('cam', 2)).toBe(1);
  });

  it('treats a jump ahead beyond MAX_COUNTED_GAP as a discontinuity, not billions of skipped frames', () => {
    const gaps = new SequenceGaps();
    gaps.observe('cam', 10);
    expect(gaps.observe('cam', 2 ** 40)).toBe(0);
    expect(gaps.observe('cam', 2 ** 40 + 3)).toBe(2); // counted from the new numbers on
  });

  it('still counts a long real gap, up to MAX_COUNTED_GAP frames', () => {
    const gaps = new SequenceGaps();
    gaps.observe('cam', 0);
    expect(gaps.observe('cam', 2_501)).toBe(2_500);
    expect(gaps.observe('cam', 2_501 + MAX_COUNTED_GAP + 1)).toBe(MAX_COUNTED_GAP);
    expect(gaps.observe('cam', 2_501 + 2 * MAX_COUNTED_GAP + 3)).toBe(0);
  });
});
