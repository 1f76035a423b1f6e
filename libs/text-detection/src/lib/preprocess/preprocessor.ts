import type { DetectionPreset, ImageView, PreprocessedImage } from '../types';
import { layOut } from '../wasm/wasm-runtime';
import { detResizeShape, type Size } from './det-resize-shape';
import { assertPositiveSize, assertValidImage, copyImageIn, imageByteLength } from './kernel-memory';
import { createKernels, type Kernels } from './kernels';
import { LinearResize, type ResizeTarget } from './linear-resize';

/** The parts of a detection preset that preprocessing reads. */
export type PreprocessSettings = Pick<DetectionPreset, 'preResize' | 'resize' | 'normalize'>;

/** Where a plan's frame and tensor lie in kernel memory, and the kernel calls from one to the other. */
interface PlannedSteps {
  source: number;
  tensorAddress: number;
  /** The resizes in order, the last one normalizing into the tensor; or normalizing alone. */
  steps: Array<() => void>;
}

/** What a frame of one geometry goes through, laid out once in kernel memory. */
interface FramePlan extends Pick<PlannedSteps, 'source' | 'steps'> {
  width: number;
  height: number;
  stride: number;
  input: Size;
  tensor: Float32Array;
}

/**
 * The sizes a frame passes through: its own, then after each resize; the last is the network input.
 * A DetResize to the size the frame already has is skipped, as cv2.resize to the same size is a copy.
 */
function resizeSizes(source: Size, preset: PreprocessSettings): Size[] {
  const sizes = [source];
  const { preResize } = preset;
  if (preResize && (preResize.width !== source.width || preResize.height !== source.height)) {
    sizes.push({ height: preResize.height, width: preResize.width });
  }
  const last = sizes[sizes.length - 1];
  const input = detResizeShape(last.height, last.width, preset.resize);
  if (input.height !== last.height || input.width !== last.width) sizes.push(input);
  return sizes;
}

/**
 * PaddleOCR DB preprocessing of BGR frames as the preset says: optional squash to a fixed size,
 * DetResizeForTest, NormalizeImage and HWC -> CHW, matching OpenCV and numpy bit for bit.
 * Tables and buffers are kept while frames keep the same geometry; the returned tensor is a view
 * into the preprocessor's memory, valid until the next run(). Not re-entrant.
 */
export class Preprocessor {
  private readonly kernels: Kernels = createKernels();
  private plan?: FramePlan;

  constructor(readonly preset: PreprocessSettings) {
    const { preResize, resize } = preset;
    if (preResize) assertPositiveSize('preset preResize', preResize.width, preResize.height);
    if (resize.kind === 'fixed') assertPositiveSize('preset fixed resize', resize.width, resize.height);
    else if (!(resize.limitSideLen > 0)) throw new RangeError(`preset limitSideLen must be positive, got ${resize.limitSideLen}`);
  }

  run(image: ImageView): PreprocessedImage {
    assertValidImage(image);
    const plan = this.planFor(image);
    copyImageIn(this.kernels.memory, image, plan.source);
    for (const step of plan.steps) step();
    const { tensor, input } = plan;
    return { tensor, height: input.height, width: input.width, sourceHeight: image.height, sourceWidth: image.width };
  }

  private planFor(image: ImageView): FramePlan {
    const { plan } = this;
    if (plan && plan.width === image.width && plan.height === image.height && plan.stride === image.stride) return plan;

    const [frameSize, ...outputSizes] = resizeSizes({ height: image.height, width: image.width }, this.preset);
    const input = outputSizes[outputSizes.length - 1] ?? frameSize;
    const tensorBytes = 3 * input.height * input.width * 4;
    const { source, tensorAddress, steps } = outputSizes.length === 0 ? this.normalizingSteps(image, tensorBytes) : this.resizingSteps(image, outputSizes, tensorBytes);
    const tensor = new Float32Array(this.kernels.memory.buffer, tensorAddress, tensorBytes / 4);
    this.plan = { width: image.width, height: image.height, stride: image.stride, source, steps, input, tensor };
    return this.plan;
  }

  /** A frame of the network's own size: normalized straight from its pixels, as a resize to the same size is a copy. */
  private normalizingSteps(image: ImageView, tensorBytes: number): PlannedSteps {
    const { kernels } = this;
    const [source, tensorAddress] = layOut(kernels.memory, [LinearResize.sourceRegionBytes(imageByteLength(image)), tensorBytes]);
    const { scale, mean, std } = this.preset.normalize;
    const { width, height, stride } = image;
    const normalize = () => kernels.normalizeBgr(source, stride, width, height, tensorAddress, tensorBytes / 3, scale, mean[0], mean[1], mean[2], std[0], std[1], std[2]);
    return { source, tensorAddress, steps: [normalize] };
  }

  /** Each resize in turn, the last one normalizing into the tensor. */
  private resizingSteps(image: ImageView, outputSizes: Size[], tensorBytes: number): PlannedSteps {
    const { kernels } = this;
    const last = outputSizes.length - 1;
    // Memory: the frame, then for each resize its workspace and its output: 8-bit BGR, or for the last the tensor.
    const [source, ...regions] = layOut(kernels.memory, [
      LinearResize.sourceRegionBytes(imageByteLength(image)),
      ...outputSizes.flatMap(({ height, width }, i) => [LinearResize.workspaceBytes(width), i === last ? tensorBytes : LinearResize.sourceRegionBytes(height * width * 3)]),
    ]);
    let from = { address: source, stride: image.stride, height: image.height, width: image.width };
    const steps = outputSizes.map(({ height, width }, i) => {
      const [workspace, output] = [regions[2 * i], regions[2 * i + 1]];
      const target: ResizeTarget = i === last ? { kind: 'planes', address: output, normalize: this.preset.normalize } : { kind: 'bgr', address: output, stride: width * 3 };
      const resize = new LinearResize(kernels, from.width, from.height, width, height, workspace);
      const { address, stride } = from;
      from = { address: output, stride: width * 3, height, width };
      return () => resize.run(address, stride, target);
    });
    return { source, tensorAddress: regions[2 * last + 1], steps };
  }
}
