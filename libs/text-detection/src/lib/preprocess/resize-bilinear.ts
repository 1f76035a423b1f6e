import type { ImageView } from '../types';
import { layOut } from '../wasm/wasm-runtime';
import { assertPositiveSize, assertValidImage, copyImageIn, imageByteLength } from './kernel-memory';
import { createKernels, type Kernels } from './kernels';
import { LinearResize } from './linear-resize';

let sharedKernels: Kernels | undefined;

/**
 * `cv2.resize(src, (width, height))` (INTER_LINEAR) for an 8-bit BGR image, bit for bit. Writes into
 * `dst` when given (at least width * height * 3 bytes), and returns a tightly packed image.
 * For repeated frames use a Preprocessor, which keeps its tables and buffers between calls.
 */
export function resizeBilinearU8(src: ImageView, width: number, height: number, dst?: Uint8Array): ImageView {
  assertValidImage(src);
  assertPositiveSize('resize target', width, height);
  const byteLength = width * height * 3;
  const out = dst ?? new Uint8Array(byteLength);
  if (out.length < byteLength) throw new RangeError(`dst has ${out.length} bytes, ${width}x${height} needs ${byteLength}`);

  const kernels = (sharedKernels ??= createKernels());
  const [source, workspace, target] = layOut(kernels.memory, [
    LinearResize.sourceRegionBytes(imageByteLength(src)),
    LinearResize.workspaceBytes(width),
    byteLength,
  ]);
  copyImageIn(kernels.memory, src, source);
  const resize = new LinearResize(kernels, src.width, src.height, width, height, workspace);
  resize.run(source, src.stride, { kind: 'bgr', address: target, stride: width * 3 });
  out.set(new Uint8Array(kernels.memory.buffer, target, byteLength));
  return { data: out, width, height, stride: width * 3 };
}
