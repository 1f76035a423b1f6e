import { randomBytes } from 'node:crypto';
import { METHOD_PAYLOAD_LIMIT_BYTES } from '@iev/frame-annotation';
import { PixelFormat } from '@iev/frame-protocol';
import sharp from 'sharp';
import { PreviewSources } from './preview-sources';
import { takeSnapshot } from './snapshot';

describe('takeSnapshot', () => {
  it('fits a 1080p frame of noise (the worst case for JPEG) into a direct method answer', async () => {
    const sources = new PreviewSources();
    const [width, height] = [1920, 1080];
    sources.addFrame({ sourceId: 'cam', sequence: 7, captureTimeMs: 0, width, height, stride: width * 3, pixelFormat: PixelFormat.BGR24, pixels: randomBytes(width * height * 3) });
    const snapshot = await takeSnapshot(sources);
    expect(Buffer.byteLength(JSON.stringify(snapshot))).toBeLessThanOrEqual(METHOD_PAYLOAD_LIMIT_BYTES);
    expect(snapshot).toMatchObject({ sourceId: 'cam', sequence: 7, paired: false, boxes: 0 });
    expect(snapshot.width).toBeLessThan(width); // noise does not fit at full size
    const decoded = await sharp(Buffer.from(snapshot.jpeg, 'base64')).metadata();
    expect([decoded.width, decoded.height]).toEqual([snapshot.width, snapshot.height]);
  });

  it("shades the camera's ignore regions in the picture, as the page does", async () => {
    const sources = new PreviewSources();
    sources.announceRegions({ regions: { '*': [{ unit: 'fraction', points: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]] }] }, repeatMs: 60_000 });
    sources.addFrame({ sourceId: 'cam', sequence: 1, captureTimeMs: 0, width: 64, height: 48, stride: 64 * 3, pixelFormat: PixelFormat.BGR24, pixels: new Uint8Array(64 * 48 * 3).fill(128) });
    const { data } = await sharp(Buffer.from((await takeSnapshot(sources)).jpeg, 'base64')).raw().toBuffer({ resolveWithObject: true });
    const redness = (x: number, y: number) => data[(y * 64 + x) * 3] - data[(y * 64 + x) * 3 + 1];
    // The left half red-tinted (30 % of rgb(255, 0, 64) over the grey: 166 against 90), the right half grey.
    expect(redness(16, 24)).toBeGreaterThan(60);
    expect(Math.abs(redness(48, 24))).toBeLessThan(8);
  });

  it('says what it waits for before the first frame', async () => {
    await expect(takeSnapshot(new PreviewSources())).rejects.toThrow('no frame yet from any source');
    await expect(takeSnapshot(new PreviewSources(['camera0']), 'camera0')).rejects.toThrow('waiting for camera0: no frame yet');
  });

  it('names the sources it has when asked for one it has not, rather than waiting for it', async () => {
    await expect(takeSnapshot(new PreviewSources(['camera0', 'camera1']), 'Camera0')).rejects.toThrow('no such source: Camera0 (sources: camera0, camera1)');
    await expect(takeSnapshot(new PreviewSources(), 'camera0')).rejects.toThrow('no such source: camera0 (sources: none yet)');
  });

  it('takes a null sourceId (a payload\'s {"sourceId": null}) as none given: the first source with a frame', async () => {
    const sources = new PreviewSources(['camera0']);
    sources.addFrame({ sourceId: 'camera0', sequence: 3, captureTimeMs: 0, width: 16, height: 16, stride: 48, pixelFormat: PixelFormat.BGR24, pixels: randomBytes(16 * 16 * 3) });
    await expect(takeSnapshot(sources, null)).resolves.toMatchObject({ sourceId: 'camera0', sequence: 3 });
  });
});
