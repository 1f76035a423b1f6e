export type Corner = readonly [number, number];
export type Corners = readonly [Corner, Corner, Corner, Corner];

/** Straight-line distance between two corners. */
export const cornerDistance = (p: Corner, q: Corner): number => Math.hypot(p[0] - q[0], p[1] - q[1]);

/** A 3x3 projective map, row-major, as OpenCV's getPerspectiveTransform returns it (m[8] = 1). */
export type Homography = Float64Array;

/**
 * The projective map that takes each of `from` to the matching corner of `to` (OpenCV's getPerspectiveTransform):
 * the 8x8 linear system solved by Gaussian elimination with partial pivoting. Throws on a degenerate quad.
 */
export function perspectiveTransform(from: Corners, to: Corners): Homography {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    a.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
    a.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let row = col + 1; row < 8; row++) if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) pivot = row;
    if (Math.abs(a[pivot][col]) < 1e-12) throw new RangeError('degenerate quad: three of its corners are on one line');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let row = 0; row < 8; row++) {
      if (row === col) continue;
      const factor = a[row][col] / a[col][col];
      if (factor === 0) continue;
      for (let k = col; k < 9; k++) a[row][k] -= factor * a[col][k];
    }
  }
  const m = new Float64Array(9);
  for (let i = 0; i < 8; i++) m[i] = a[i][8] / a[i][i];
  m[8] = 1;
  return m;
}

/** Where `m` takes the point (x, y). */
export function mapPoint(m: Homography, x: number, y: number): [number, number] {
  const w = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w];
}
