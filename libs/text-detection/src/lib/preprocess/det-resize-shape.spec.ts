import { detResizeShape } from './det-resize-shape';

describe('detResizeShape (PaddleOCR DetResizeForTest)', () => {
  it('min: scales the short side up to the limit, then rounds both sides to multiples of 32', () => {
    // ratio 736 / 600: 800 * ratio = 981.3 -> 981 -> round(30.66) * 32 = 992
    expect(detResizeShape(600, 800, { kind: 'limit', limitSideLen: 736, limitType: 'min' })).toEqual({ height: 736, width: 992 });
  });

  it('min: leaves an image whose short side already reaches the limit (the seed 960x960 frames)', () => {
    expect(detResizeShape(960, 960, { kind: 'limit', limitSideLen: 736, limitType: 'min' })).toEqual({ height: 960, width: 960 });
  });

  it('max: scales the long side down to the limit', () => {
    // ratio 0.75: 720 -> 540 -> round(16.875) * 32 = 544
    expect(detResizeShape(720, 1280, { kind: 'limit', limitSideLen: 960, limitType: 'max' })).toEqual({ height: 544, width: 960 });
  });

  it('max: does not enlarge a smaller image, only rounds it', () => {
    expect(detResizeShape(480, 640, { kind: 'limit', limitSideLen: 960, limitType: 'max' })).toEqual({ height: 480, width: 640 });
    expect(detResizeShape(100, 200, { kind: 'limit', limitSideLen: 960, limitType: 'max' })).toEqual({ height: 96, width: 192 });
  });

  it('resize_long: scales the long side to the limit, up or down', () => {
    expect(detResizeShape(300, 500, { kind: 'limit', limitSideLen: 640, limitType: 'resize_long' })).toEqual({ height: 384, width: 640 });
    expect(detResizeShape(1000, 2000, { kind: 'limit', limitSideLen: 640, limitType: 'resize_long' })).toEqual({ height: 320, width: 640 });
  });

  it('rounds halves to even like Python, and never below 32', () => {
    // 48 / 32 = 1.5 -> 2; 80 / 32 = 2.5 -> 2; 10 / 32 -> 0 -> 32
    expect(detResizeShape(48, 80, { kind: 'limit', limitSideLen: 1000, limitType: 'max' })).toEqual({ height: 64, width: 64 });
    expect(detResizeShape(10, 40, { kind: 'limit', limitSideLen: 1000, limitType: 'max' })).toEqual({ height: 32, width: 32 });
  });

  it('fixed: is the given shape whatever the image', () => {
    expect(detResizeShape(480, 640, { kind: 'fixed', height: 736, width: 1280 })).toEqual({ height: 736, width: 1280 });
  });
});
