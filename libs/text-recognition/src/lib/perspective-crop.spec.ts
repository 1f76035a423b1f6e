import type { ImageView } from '@iev/text-detection';
import type { Corners } from './homography';
import { cropSize, perspectiveCrop, rotateQuarterLeft } from './perspective-crop';

/** A BGR image whose pixel (x, y) is [x, y, x + y] (mod 256), so every pixel says where it came from. */
function coordinateImage(width: number, height: number): ImageView {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x % 256, y % 256, (x + y) % 256], (y * width + x) * 3);
  return { data, width, height, stride: width * 3 };
}

/** The crop, which these quads always have. */
function cropOf(image: ImageView, quad: Corners): ImageView {
  const crop = perspectiveCrop(image, quad);
  if (!crop) throw new Error('no crop');
  return crop;
}

const pixel = (image: ImageView, x: number, y: number) => [...image.data.subarray(y * image.stride + x * 3, y * image.stride + x * 3 + 3)];

describe('perspectiveCrop', () => {
  const image = coordinateImage(120, 80);

  it("sizes a crop by the quad's longer opposite sides, truncated, as PaddleOCR does", () => {
    expect(cropSize([[0, 0], [30.9, 0], [30, 10.5], [0, 10]])).toEqual({ width: 30, height: 10 });
  });

  it('copies an upright box pixel for pixel (the warp samples whole pixels there)', () => {
    const crop = cropOf(image, [[20, 10], [60, 10], [60, 30], [20, 30]]);
    expect(crop).toMatchObject({ width: 40, height: 20, stride: 120 });
    expect(pixel(crop, 0, 0)).toEqual(pixel(image, 20, 10));
    expect(pixel(crop, 39, 19)).toEqual(pixel(image, 59, 29));
    expect(pixel(crop, 13, 7)).toEqual(pixel(image, 33, 17));
  });

  it('straightens a rotated quad: its top-left corner comes first, its bottom-right last', () => {
    // A 40x10 box turned by 90° clockwise: its top edge runs down the image at x = 50.
    const crop = cropOf(image, [[50, 10], [50, 50], [40, 50], [40, 10]]);
    expect(crop).toMatchObject({ width: 40, height: 10 });
    expect(pixel(crop, 0, 0)).toEqual(pixel(image, 50, 10));
    expect(pixel(crop, 20, 0)).toEqual(pixel(image, 50, 30));
    expect(pixel(crop, 0, 5)).toEqual(pixel(image, 45, 10));
  });

  it('replicates the border for a quad reaching past the image', () => {
    const crop = cropOf(image, [[-10, 0], [10, 0], [10, 5], [-10, 5]]);
    expect(pixel(crop, 0, 2)).toEqual(pixel(image, 0, 2));
  });

  it('turns a crop 1.5 times taller than wide a quarter left (vertical text), and none with no area', () => {
    const tall = cropOf(image, [[10, 10], [20, 10], [20, 40], [10, 40]]);
    expect(tall).toMatchObject({ width: 30, height: 10 });
    expect(pixel(tall, 0, 0)).toEqual(pixel(image, 19, 10));
    expect(perspectiveCrop(image, [[10, 10], [10, 10], [10, 10], [10, 10]])).toBeUndefined();
  });
});

describe('rotateQuarterLeft', () => {
  it("turns counter-clockwise like numpy's rot90", () => {
    const image = coordinateImage(3, 2);
    const turned = rotateQuarterLeft(image);
    expect(turned).toMatchObject({ width: 2, height: 3, stride: 6 });
    expect(pixel(turned, 0, 0)).toEqual(pixel(image, 2, 0));
    expect(pixel(turned, 1, 2)).toEqual(pixel(image, 0, 1));
  });
});
