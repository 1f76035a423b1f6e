import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import { PixelFormat, type Detections } from '@iev/frame-protocol';
import { annotatedJpeg, plainJpeg, PreviewRenderer } from './preview-renderer';
import { FORGET_SILENT_SOURCE_MS, PreviewSources } from './preview-sources';

// A full GC on demand, to see what is still referenced (a context made after the flag has `gc`).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const [width, height] = [64, 48];

function addFrame(sources: PreviewSources, sequence: number, sourceId = 'cam'): void {
  sources.addFrame({ sourceId, sequence, captureTimeMs: 1000 + sequence, width, height, stride: width * 3, pixelFormat: PixelFormat.BGR24, pixels: new Uint8Array(width * height * 3).fill(sequence) });
}

function detectionsOf(sequence: number): Detections {
  return {
    frame: { sourceId: 'cam', sequence, captureTimeMs: 1000 + sequence },
    width,
    height,
    modelId: 'm',
    boxes: [{ points: [[4, 4], [40, 4], [40, 20], [4, 20]], score: 0.9 }],
    timings: { transportMs: 1, preprocessMs: 1, inferenceMs: 1, postprocessMs: 1 },
    publishedAtMs: 1100 + sequence,
  };
}

describe('PreviewRenderer', () => {
  it('encodes a frame once for the plain stream while its boxes change, and again for the next frame', async () => {
    const sources = new PreviewSources(['cam']);
    const renderer = new PreviewRenderer(sources, plainJpeg());
    addFrame(sources, 3);
    const unpaired = await renderer.latest('cam');
    sources.addDetections(detectionsOf(2));
    const newerBoxes = await renderer.latest('cam');
    sources.addDetections(detectionsOf(3));
    const own = await renderer.latest('cam');
    expect([unpaired?.paired, newerBoxes?.paired, own?.paired]).toEqual([false, false, true]);
    expect(new Set([unpaired?.key, newerBoxes?.key, own?.key]).size).toBe(3);
    expect(own?.boxes).toHaveLength(1);
    expect(own?.jpeg).toBe(unpaired?.jpeg);
    expect(renderer.encoded).toBe(1);

    addFrame(sources, 4);
    sources.addDetections(detectionsOf(4));
    const next = await renderer.latest('cam');
    expect(next?.sequence).toBe(4);
    expect(next?.jpeg).not.toBe(own?.jpeg);
    expect(renderer.encoded).toBe(2);
  });

  it("encodes the frame it was asked for even when newer frames push it out meanwhile (its pixels are held)", async () => {
    const sources = new PreviewSources(['cam']);
    const renderer = new PreviewRenderer(sources, plainJpeg());
    addFrame(sources, 3);
    const encoding = renderer.latest('cam');
    for (let sequence = 4; sequence < 30; sequence++) addFrame(sources, sequence);
    const encoded = await encoding;
    if (!encoded) throw new Error('no picture was encoded');
    const { data } = await sharp(encoded.jpeg).raw().toBuffer({ resolveWithObject: true });
    expect(Math.max(...data)).toBeLessThanOrEqual(3 + 1);
  });

  it('draws a frame again for the annotated pictures when its boxes change', async () => {
    const sources = new PreviewSources(['cam']);
    const renderer = new PreviewRenderer(sources, annotatedJpeg());
    addFrame(sources, 3);
    await renderer.latest('cam');
    await renderer.latest('cam');
    expect(renderer.encoded).toBe(1);
    sources.addDetections(detectionsOf(3));
    await renderer.latest('cam');
    expect(renderer.encoded).toBe(2);
  });

  it("lets go of a forgotten source's JPEG and the picture it was made of", async () => {
    const sources = new PreviewSources();
    const renderer = new PreviewRenderer(sources, plainJpeg());
    addFrame(sources, 3, 'gone');
    const image = new WeakRef(sources.picture('gone')?.image as object);
    const jpeg = new WeakRef((await renderer.latest('gone'))?.jpeg as Buffer);
    sources.forgetSilent(performance.now() + FORGET_SILENT_SOURCE_MS);
    await new Promise(setImmediate); // a WeakRef keeps its target until the job that made it is done
    gc();
    expect({ image: image.deref() !== undefined, jpeg: jpeg.deref() !== undefined }).toEqual({ image: false, jpeg: false });
  });
});
