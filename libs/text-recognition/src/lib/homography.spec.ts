import { mapPoint, perspectiveTransform, type Corners } from './homography';

describe('perspectiveTransform', () => {
  it('maps each corner onto its counterpart, for a projective (not affine) quad', () => {
    const from: Corners = [[10, 12], [110, 5], [120, 60], [8, 48]];
    const to: Corners = [[0, 0], [100, 0], [100, 40], [0, 40]];
    const m = perspectiveTransform(from, to);
    from.forEach((corner, i) => {
      const [x, y] = mapPoint(m, corner[0], corner[1]);
      expect(x).toBeCloseTo(to[i][0], 9);
      expect(y).toBeCloseTo(to[i][1], 9);
    });
  });

  it('refuses a quad with three corners on one line', () => {
    expect(() => perspectiveTransform([[0, 0], [5, 0], [10, 0], [0, 10]], [[0, 0], [1, 0], [1, 1], [0, 1]])).toThrow(/degenerate quad/);
  });
});
