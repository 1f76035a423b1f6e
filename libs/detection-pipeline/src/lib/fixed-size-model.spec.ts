import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFixedInputDims } from '@iev/inference-backends';
import { readBgrImage, recordingLog } from '@iev/testing';
import { pairByIoU, type ImageView, type Quad } from '@iev/text-detection';
import { loadTextDetector, reconfigureDetector, type DetectorLoading } from './load-text-detector';
import type { TextDetector } from './text-detector';

const ROOT = join(__dirname, '../../../..');
/** The `default` preset's model, whose input is [N, 3, H, W] with every dimension dynamic. */
const DYNAMIC_MODEL = join(ROOT, 'models/ch_PP-OCRv4_det_infer.onnx');
const FRAMES = join(ROOT, 'testdata/text-frames/dev-a');
const quiet = { info: () => undefined, warn: () => undefined };
const onCpu = { preset: 'default', threads: 1, streams: 1, useTensorRt: false, log: quiet } as const;

/** Models whose input is fixed as a static-shape export's is: the dynamic model's dims rewritten in its protobuf. */
const dir = mkdtempSync(join(tmpdir(), 'fixed-size-model-'));
function modelWithInput(name: string, dims: ReadonlyArray<number | undefined>): string {
  const path = join(dir, name);
  writeFileSync(path, withFixedInputDims(readFileSync(DYNAMIC_MODEL), dims));
  return path;
}
const FIXED_640X480 = modelWithInput('det-640x480.onnx', [1, 3, 480, 640]);
const FIXED_640X640 = modelWithInput('det-640x640.onnx', [1, 3, 640, 640]);
const HEIGHT_ONLY = modelWithInput('det-height-only.onnx', [undefined, undefined, 640]);

/** A few 640x480 frames of dev-a. */
const frames: ImageView[] = ['frame_000.png', 'frame_005.png', 'frame_010.png'].map((file) => readBgrImage(join(FRAMES, file), 640, 480));
const boxesOn = async (detector: TextDetector, frame: ImageView): Promise<Quad[]> => (await detector.detect(frame)).boxes.map((box) => box.points);

let dynamic: TextDetector;
const loaded: TextDetector[] = [];
async function load(options: Partial<DetectorLoading>): Promise<TextDetector> {
  const detector = await loadTextDetector({ ...onCpu, ...options });
  loaded.push(detector);
  return detector;
}

beforeAll(async () => {
  dynamic = await load({ modelPath: DYNAMIC_MODEL });
}, 60_000);
afterAll(async () => {
  await Promise.all(loaded.map((detector) => detector.backend.dispose()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a detection model whose input is fixed at one size', () => {
  it('runs every frame at that size, says so once at load, and at the size the frames already have finds what the dynamic model does', async () => {
    const log = recordingLog();
    const fixed = await load({ modelPath: FIXED_640X480, log });
    expect(log.lines.filter((line) => line.includes('fixed'))).toEqual([
      `info: ${FIXED_640X480}: its input x is fixed at [1, 3, 480, 640], so every frame is resized to 640x480 (the preset's own resize does not apply)`,
    ]);
    expect(fixed.preset.resize).toEqual({ kind: 'fixed', width: 640, height: 480 });
    for (const frame of frames) expect(await boxesOn(fixed, frame)).toEqual(await boxesOn(dynamic, frame));
  }, 60_000);

  it('squashes a frame of another shape to it and reports boxes in the frame, on the lines the dynamic model finds', async () => {
    const fixed = await load({ modelPath: FIXED_640X640 });
    let lines = 0;
    let paired = 0;
    for (const frame of frames) {
      const ours = await boxesOn(fixed, frame);
      const reference = await boxesOn(dynamic, frame);
      for (const [x, y] of ours.flat()) {
        expect(x >= 0 && x <= frame.width && y >= 0 && y <= frame.height).toBe(true);
      }
      lines += reference.length;
      paired += pairByIoU(reference, ours, 0.5).length;
    }
    expect(lines).toBeGreaterThan(10);
    expect(paired / lines).toBeGreaterThanOrEqual(0.8);
  }, 60_000);

  describe('refuses settings it cannot take, the detector unchanged', () => {
    it('as an environment override of limitSideLen at load', async () => {
      await expect(load({ modelPath: FIXED_640X640, overrides: { limitSideLen: 1280 } })).rejects.toThrow(
        "limitSideLen 1280 does not apply: the detection model's input is fixed at 640x640, the size every frame is resized to",
      );
    }, 60_000);

    it('as a twin patch of limitSideLen, while one of thresh applies', async () => {
      const fixed = await load({ modelPath: FIXED_640X640 });
      const { backend, preset } = fixed;
      await expect(reconfigureDetector(fixed, { ...onCpu, modelPath: FIXED_640X640, overrides: { limitSideLen: 1280 } })).rejects.toThrow(
        "limitSideLen 1280 does not apply: the detection model's input is fixed at 640x640",
      );
      expect(fixed.backend).toBe(backend);
      expect(fixed.preset).toBe(preset);
      expect((await fixed.detect(frames[0])).boxes.length).toBeGreaterThan(0);

      await reconfigureDetector(fixed, { ...onCpu, modelPath: FIXED_640X640, overrides: { thresh: 0.4 } });
      expect(fixed.backend).toBe(backend);
      expect(fixed.preset.postprocess.thresh).toBe(0.4);
      expect(fixed.preset.resize).toEqual({ kind: 'fixed', width: 640, height: 640 });
    }, 60_000);

    it("but takes limitSideLen in a patch that switches to a dynamic model, and a fixed model's size in one that switches back", async () => {
      const detector = await load({ modelPath: FIXED_640X640 });
      await reconfigureDetector(detector, { ...onCpu, modelPath: DYNAMIC_MODEL, overrides: { limitSideLen: 1280 } });
      expect(detector.modelPath).toBe(DYNAMIC_MODEL);
      expect(detector.preset.resize).toEqual({ kind: 'limit', limitSideLen: 1280, limitType: 'max' });

      await reconfigureDetector(detector, { ...onCpu, modelPath: FIXED_640X480 });
      expect(detector.modelPath).toBe(FIXED_640X480);
      expect(detector.preset.resize).toEqual({ kind: 'fixed', width: 640, height: 480 });
      expect(await boxesOn(detector, frames[0])).toEqual(await boxesOn(dynamic, frames[0]));
    }, 60_000);
  });

  it('is refused at load when only its height is fixed, naming the file and its input', async () => {
    await expect(load({ modelPath: HEIGHT_ONLY })).rejects.toThrow(
      `cannot load ${HEIGHT_ONLY} (set by MODEL_PATH): its input x is float32 [?, 3, 640, ?]; expected float32 [N, 3, H, W] with N dynamic or 1, for batches of up to 1, and H and W both dynamic or both fixed`,
    );
  });
});
