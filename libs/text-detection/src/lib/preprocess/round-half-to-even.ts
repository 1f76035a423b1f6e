/** Rounds to the nearest integer, ties to even: Python's round() and OpenCV's cvRound. */
export function roundHalfToEven(value: number): number {
  const rounded = Math.round(value);
  // Math.round sends ties up; step back to the even neighbour.
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}
