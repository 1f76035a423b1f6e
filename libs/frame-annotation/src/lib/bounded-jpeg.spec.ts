import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { readBgrImage } from '@iev/testing';
import { detectionAnnotations } from './annotation';
import { encodeBoundedJpeg, jpegBytesForBase64Payload, METHOD_PAYLOAD_LIMIT_BYTES } from './bounded-jpeg';

const noise = (width: number, height: number) => ({ data: randomFillSync(new Uint8Array(width * height * 3)), width, height, stride: width * 3 });

describe('encodeBoundedJpeg', () => {
  it('fits a frame of full-HD noise, which no quality fits at full size, into 128 KB by scaling it down', async () => {
    const frame = noise(1920, 1080);
    const box = detectionAnnotations([{ points: [[100, 100], [700, 100], [700, 200], [100, 200]], score: 1, text: 'NOISE' }]);
    const { jpeg, width, height, quality } = await encodeBoundedJpeg(frame, box, METHOD_PAYLOAD_LIMIT_BYTES);
    expect(jpeg.length).toBeLessThanOrEqual(128 * 1024);
    expect(width).toBeLessThan(1920);
    expect(width / height).toBeCloseTo(1920 / 1080, 1);
    expect(quality).toBe(45);
    const decoded = await sharp(jpeg).metadata();
    expect(decoded).toMatchObject({ format: 'jpeg', width, height });
  });

  it('keeps a real frame at full size when a lower quality is enough', async () => {
    const frame = readBgrImage(join(__dirname, '../../../../testdata/text-frames/dev-b/frame_000.png'), 1280, 720);
    const { jpeg, width, height, quality } = await encodeBoundedJpeg(frame, [], 100 * 1024);
    expect(jpeg.length).toBeLessThanOrEqual(100 * 1024);
    expect([width, height]).toEqual([1280, 720]);
    expect(quality).toBeLessThan(85);
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 1280, height: 720 });
  });

  it('leaves room for base64 in a JSON method response', async () => {
    const budget = jpegBytesForBase64Payload(METHOD_PAYLOAD_LIMIT_BYTES, 256);
    const { jpeg, width, height } = await encodeBoundedJpeg(noise(1280, 720), [], budget);
    const payload = JSON.stringify({ contentType: 'image/jpeg', width, height, jpeg: jpeg.toString('base64') });
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(METHOD_PAYLOAD_LIMIT_BYTES);
  });

  it('says when the bound cannot be met', async () => {
    await expect(encodeBoundedJpeg(noise(64, 64), [], 200)).rejects.toThrow('maxBytes 200 is too small for a JPEG of this 64x64 frame');
    await expect(encodeBoundedJpeg(noise(64, 64), [], 0)).rejects.toThrow('maxBytes must be a positive number (got 0)');
  });
});
