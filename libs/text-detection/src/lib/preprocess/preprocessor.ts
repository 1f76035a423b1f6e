import type { DetectionPreset, ImageView, PreprocessedImage } from '../types';
import { detResizeShape, type Size } from './det-resize-shape';
import { layOut } from '../wasm/wasm-runtime';
import { assertPositiveSize, assertValidImage, copyImageIn, imageByteLength } from './kernel-memory';
import { createKernels, type Kernels } from './kernels';
import { LinearResize, type ResizeTarget } from './linear-resize';

/** The parts of a detection preset that preprocessing reads. */
export type PreprocessSettings = Pick<DetectionPreset, 'preResize' | 'resize' | 'normalize'>;

interface ResizeStep {
  resize: LinearResize;
  source: number;
  sourceStride: number;
  target: ResizeTarget;
}

/** What a frame of one geometry goes through, laid out once in kernel memory. */
interface FramePlan {
  width: number;
  height: number;
  stride: number;
  source: number;
  steps: ResizeStep[];
  input: Size;
  tensor: Float32Array;
}

/**
 * The sizes a frame passes through: its own, then after each resize; the last is the network input.
 * A DetResize to the size the frame already has is skipped, as cv2.resize to the same size is a copy.
 * A frame that needs no resize at all still gets one (an exact copy) as that is what normalizes it.
 */
function resizeSizes(source: Size, preset: PreprocessSettings): Size[] {
  const sizes = [source];
  const { preResize } = preset;
  if (preResize && (preResize.width !== source.width || preResize.height !== source.height)) {
    sizes.push({ height: preResize.height, width: preResize.width });
  }
  const last = sizes[sizes.length - 1];
  const input = detResizeShape(last.height, last.width, preset.resize);
  if (sizes.length === 1 || input.height !== last.height || input.width !== last.width) sizes.push(input);
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
    for (const step of plan.steps) step.resize.run(step.source, step.sourceStride, step.target);
    const { tensor, input } = plan;
    return { tensor, height: input.height, width: input.width, sourceHeight: image.height, sourceWidth: image.width };
  }

  private planFor(image: ImageView): FramePlan {
    const { plan } = this;
    if (plan && plan.width === image.width && plan.height === image.height && plan.stride === image.stride) return plan;

    const [frameSize, ...outputSizes] = resizeSizes({ height: image.height, width: image.width }, this.preset);
    const last = outputSizes.length - 1;
    // Memory: the frame, then for each resize its workspace and its output: 8-bit BGR, or for the last the tensor.
    const [source, ...regions] = layOut(this.kernels.memory, [
      LinearResize.sourceRegionBytes(imageByteLength(image)),
      ...outputSizes.flatMap(({ height, width }, i) => [
        LinearResize.workspaceBytes(width),
        i === last ? 3 * height * width * 4 : LinearResize.sourceRegionBytes(height * width * 3),
      ]),
    ]);

    let from = { address: source, stride: image.stride, ...frameSize };
    const steps = outputSizes.map(({ height, width }, i): ResizeStep => {
      const [workspace, output] = [regions[2 * i], regions[2 * i + 1]];
      const target: ResizeTarget =
        i === last
          ? { kind: 'planes', address: output, normalize: this.preset.normalize }
          : { kind: 'bgr', address: output, stride: width * 3 };
      const resize = new LinearResize(this.kernels, from.width, from.height, width, height, workspace);
      const step = { resize, source: from.address, sourceStride: from.stride, target };
      from = { address: output, stride: width * 3, height, width };
      return step;
    });

    const input = outputSizes[last];
    const tensor = new Float32Array(this.kernels.memory.buffer, regions[2 * last + 1], 3 * input.height * input.width);
    this.plan = { width: image.width, height: image.height, stride: image.stride, source, steps, input, tensor };
    return this.plan;
  }
}
