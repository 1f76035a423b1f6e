import type { ImageView } from '../types';
import type { WasmMemory } from '../wasm/wasm-runtime';

/** Bytes an image's data spans: every row but the last at full stride. */
export function imageByteLength(image: ImageView): number {
  return (image.height - 1) * image.stride + image.width * 3;
}

export function assertPositiveSize(what: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what} must be positive integers, got ${width}x${height}`);
  }
}

export function assertValidImage(image: ImageView): void {
  const { width, height, stride, data } = image;
  assertPositiveSize('image size', width, height);
  if (!Number.isInteger(stride) || stride < width * 3) {
    throw new RangeError(`image stride ${stride} is less than 3 * width (${width * 3})`);
  }
  const needed = imageByteLength(image);
  if (data.length < needed) {
    throw new RangeError(`image data has ${data.length} bytes, a ${width}x${height} image with stride ${stride} needs ${needed}`);
  }
}

/** Copies an image into memory at `address`, keeping its stride. */
export function copyImageIn(memory: WasmMemory, image: ImageView, address: number): void {
  new Uint8Array(memory.buffer, address).set(image.data.subarray(0, imageByteLength(image)));
}
