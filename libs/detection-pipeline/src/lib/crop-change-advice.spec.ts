import { cropChangeAdvice } from './crop-change-advice';
import { IgnoredRegions } from './ignore-regions';

describe('cropChangeAdvice', () => {
  const regions = IgnoredRegions.fromText(JSON.stringify({ door: [[0.6, 0, 0.4, 0.05]], gate: [] }));

  it("warns of a camera's regions, which are of the cropped frame, when its crop changes", () => {
    expect(cropChangeAdvice(regions, 'door', '', '0,0,50%,50%')).toEqual({
      context: { sourceId: 'door', from: '', to: '0,0,50%,50%', regions: [[[0.6, 0], [1, 0], [1, 0.05], [0.6, 0.05]]] },
      message:
        `camera "door"'s crop changed from the whole picture to 0,0,50%,50% while 1 ignore region(s) apply to it: regions are of the cropped frame, ` +
        'so each now covers another part of the picture; redraw them on a frame of the new crop (the preview shows it) and set them again',
    });
  });

  it('says nothing of a camera without regions', () => {
    expect(cropChangeAdvice(regions, 'gate', '', '0,0,50%,50%')).toBeUndefined();
    expect(cropChangeAdvice(IgnoredRegions.NONE, 'door', '', '0,0,50%,50%')).toBeUndefined();
  });
});
