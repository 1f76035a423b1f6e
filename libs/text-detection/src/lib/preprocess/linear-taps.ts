import { roundHalfToEven } from './round-half-to-even';

/** OpenCV's INTER_RESIZE_COEF_BITS: 8-bit images are resized with 11-bit fixed-point weights. */
const WEIGHT_ONE = 1 << 11;

/**
 * For each destination index along one axis: the two source indices it blends and their fixed-point
 * weights (which sum to WEIGHT_ONE).
 */
export interface LinearTaps {
  first: Int32Array;
  second: Int32Array;
  firstWeight: Int32Array;
  secondWeight: Int32Array;
}

/**
 * The taps OpenCV's cv::resize (INTER_LINEAR, 8-bit) uses along one axis, as in `hal::resize` in
 * modules/imgproc/src/resize.cpp. The source coordinate is computed in double and rounded to float
 * like OpenCV does, so weights agree to the bit. The two axes treat the borders differently:
 * - columns: a coordinate left of the first or right of the last pixel is clamped onto it with
 *   weight 0 for the second tap;
 * - rows: only the row indices are clamped; the weights stay, and the vertical pass rounds each
 *   weighted row separately, so the result can differ from the clamped pixel by one.
 */
export function linearTaps(sourceSize: number, destinationSize: number, axis: 'columns' | 'rows'): LinearTaps {
  const taps: LinearTaps = {
    first: new Int32Array(destinationSize),
    second: new Int32Array(destinationSize),
    firstWeight: new Int32Array(destinationSize),
    secondWeight: new Int32Array(destinationSize),
  };
  const last = sourceSize - 1;
  // OpenCV divides by the inverse scale rather than computing source/destination directly.
  const scale = 1 / (destinationSize / sourceSize);
  for (let index = 0; index < destinationSize; index++) {
    const coordinate = Math.fround((index + 0.5) * scale - 0.5);
    let source = Math.floor(coordinate);
    let fraction = Math.fround(coordinate - source);
    if (axis === 'columns' && (source < 0 || source >= last)) {
      source = source < 0 ? 0 : last;
      fraction = 0;
    }
    taps.first[index] = Math.min(Math.max(source, 0), last);
    taps.second[index] = Math.min(Math.max(source + 1, 0), last);
    taps.firstWeight[index] = roundHalfToEven(Math.fround(1 - fraction) * WEIGHT_ONE);
    taps.secondWeight[index] = roundHalfToEven(fraction * WEIGHT_ONE);
  }
  return taps;
}
