import { ColorMatrix, i420Planes } from '@iev/frame-protocol';
import type { ImageView } from '../types';
import { layOut } from '../wasm/wasm-runtime';
import { createI420Kernel, i420Coefficients, I420_OVERRUN_BYTES, type I420Coefficients, type I420Kernel } from './i420-kernel';

/** An I420 image: `stride` bytes a row of Y, then its U and V planes as frame-protocol lays them out (i420Planes). */
export interface I420View {
  data: Uint8Array;
  width: number;
  height: number;
  stride: number;
  /** The matrix its colours were encoded with; absent, BT.601. */
  colorMatrix?: ColorMatrix;
  /** True where Y, U and V span 0-255; absent, limited range. */
  fullRange?: boolean;
}

/** A matrix's black level and multipliers at either range, from its luma weights. */
interface RangeCoefficients {
  limited: I420Coefficients;
  full: I420Coefficients;
}

const atBothRanges = (kr: number, kb: number): RangeCoefficients => ({ limited: i420Coefficients(kr, kb, false), full: i420Coefficients(kr, kb, true) });

/** Each matrix's coefficients, from its luma weights (Kr, Kb) in ITU-R BT.601, BT.709 and BT.2020. */
export const MATRIX_COEFFICIENTS: Readonly<Record<ColorMatrix, RangeCoefficients>> = {
  [ColorMatrix.BT601]: atBothRanges(0.299, 0.114),
  [ColorMatrix.BT709]: atBothRanges(0.2126, 0.0722),
  [ColorMatrix.BT2020]: atBothRanges(0.2627, 0.0593),
};

/** Where one geometry's frame and output lie in the kernel's memory. */
interface Regions {
  width: number;
  height: number;
  stride: number;
  source: number;
  output: number;
}

/**
 * Turns I420 frames into packed 8-bit BGR (what the models are fed) or RGB (what pictures are encoded from) with the
 * frame's own matrix and range: HD cameras' BT.709 read as BT.601 would make greens tens of levels too bright, and
 * full range read as limited stretches the contrast. A frame that does not say is read as BT.601 of limited range, as
 * swscale and OpenCV do. Memory is laid out once per geometry and reused.
 */
export class I420Converter {
  private readonly kernel: I420Kernel = createI420Kernel();
  private regions?: Regions;

  /** The image as BGR rows of width * 3 bytes, in `into` where given (at least that many bytes), else in new memory. */
  toBgr(image: I420View, into?: Uint8Array): ImageView {
    return this.convert(image, false, into);
  }

  /** The image as RGB rows of width * 3 bytes, in `into` where given. */
  toRgb(image: I420View, into?: Uint8Array): ImageView {
    return this.convert(image, true, into);
  }

  private convert(image: I420View, rgb: boolean, into?: Uint8Array): ImageView {
    const { width, height, stride, data, colorMatrix = ColorMatrix.BT601, fullRange = false } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
    if (!Number.isInteger(stride) || stride < width) throw new RangeError(`an I420 image's stride ${stride} is less than its width ${width}`);
    const { chromaStride, uOffset, vOffset, byteLength: sourceBytes } = i420Planes(image);
    if (data.length < sourceBytes) throw new RangeError(`I420 data has ${data.length} bytes, a ${width}x${height} image with stride ${stride} needs ${sourceBytes}`);
    const outStride = width * 3;
    const outBytes = outStride * height;
    const out = into ?? new Uint8Array(outBytes);
    if (out.length < outBytes) throw new RangeError(`a ${width}x${height} image needs ${outBytes} bytes, the buffer given has ${out.length}`);

    const { source, output } = this.regionsFor(image, sourceBytes, outBytes);
    const { memory } = this.kernel;
    const ranges = MATRIX_COEFFICIENTS[colorMatrix];
    if (!ranges) throw new RangeError(`no conversion for colour matrix ${colorMatrix}`);
    new Uint8Array(memory.buffer, source, sourceBytes).set(data.subarray(0, sourceBytes));
    const { yOffset, y, blueU, greenU, greenV, redV } = fullRange ? ranges.full : ranges.limited;
    this.kernel.i420ToBgr(source, source + uOffset, source + vOffset, stride, chromaStride, width, height, output, outStride, rgb ? 1 : 0, yOffset, y, blueU, greenU, greenV, redV);
    out.set(new Uint8Array(memory.buffer, output, outBytes));
    return { data: out, width, height, stride: outStride };
  }

  private regionsFor({ width, height, stride }: I420View, sourceBytes: number, outBytes: number): Regions {
    const { regions } = this;
    if (regions && regions.width === width && regions.height === height && regions.stride === stride) return regions;
    const [source, output] = layOut(this.kernel.memory, [sourceBytes + I420_OVERRUN_BYTES.source, outBytes + I420_OVERRUN_BYTES.output]);
    this.regions = { width, height, stride, source, output };
    return this.regions;
  }
}
