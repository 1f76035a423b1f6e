import { SequenceGaps } from './sequence-gaps';

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
});
