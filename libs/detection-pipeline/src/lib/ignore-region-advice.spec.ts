import { IgnoreRegionAdvice, MISTYPED_KEY_AFTER_MS } from './ignore-region-advice';
import { IgnoredRegions } from './ignore-regions';

const regions = (bySource: object) => IgnoredRegions.fromText(JSON.stringify(bySource));

function adviceAndWarnings() {
  const warnings: { context: object; message: string }[] = [];
  return { advice: new IgnoreRegionAdvice((context, message) => void warnings.push({ context, message })), warnings };
}

describe('IgnoreRegionAdvice', () => {
  it('tells of a key a typo away from a camera without regions of its own, once, after the cameras have had time to show', () => {
    const inForce = regions({ '*': [[0.6, 0, 0.4, 0.05]], dor: [[0, 0, 1, 1]] });
    const { advice, warnings } = adviceAndWarnings();
    advice.look(inForce, 'door', 640, 480, 0);
    advice.look(inForce, 'door', 640, 480, MISTYPED_KEY_AFTER_MS - 1);
    // A camera yet to start (`dor` may be one) is not told of at once.
    expect(warnings).toEqual([]);
    advice.look(inForce, 'door', 640, 480, MISTYPED_KEY_AFTER_MS);
    advice.look(inForce, 'door', 640, 480, MISTYPED_KEY_AFTER_MS + 1000);
    expect(warnings).toEqual([
      {
        context: { sourceId: 'door', keys: ['dor'] },
        message:
          'camera "door" has no ignore regions of its own, and the key(s) "dor" name no camera seen: a SOURCE_ID mistyped? ' +
          `(the key is the SOURCE_ID as it is, not as the twin's cameras show it); the camera gets the "*" regions, or none`,
      },
    ]);
  });

  it("tells of a key written as the twin's cameras show a SOURCE_ID (door_1 for door.1)", () => {
    const { advice, warnings } = adviceAndWarnings();
    const inForce = regions({ door_1: [[0, 0, 0.5, 0.5]] });
    advice.look(inForce, 'door.1', 640, 480, 0);
    advice.look(inForce, 'door.1', 640, 480, MISTYPED_KEY_AFTER_MS);
    expect(warnings.map(({ context }) => context)).toEqual([{ sourceId: 'door.1', keys: ['door_1'] }]);
  });

  it('tells nothing of keys that name cameras seen, keys far from the camera, or a camera with regions of its own', () => {
    const inForce = regions({ cam1: [[0, 0, 0.5, 0.5]], loadingbay: [[0, 0, 0.5, 0.5]], gate: [] });
    const { advice, warnings } = adviceAndWarnings();
    advice.look(inForce, 'cam1', 640, 480, 0);
    advice.look(inForce, 'cam1', 640, 480, MISTYPED_KEY_AFTER_MS);
    advice.look(inForce, 'cam2', 640, 480, MISTYPED_KEY_AFTER_MS);
    advice.look(inForce, 'gate', 640, 480, MISTYPED_KEY_AFTER_MS);
    advice.look(inForce, 'garage', 640, 480, MISTYPED_KEY_AFTER_MS);
    expect(warnings).toEqual([]);
  });

  it('checks regions that come into force anew (a twin change), from their own start', () => {
    const { advice, warnings } = adviceAndWarnings();
    advice.look(regions({ '*': [[0, 0, 0.1, 0.1]] }), 'door', 640, 480, 0);
    const patched = regions({ dor: [[0, 0, 0.1, 0.1]] });
    advice.look(patched, 'door', 640, 480, MISTYPED_KEY_AFTER_MS);
    expect(warnings).toEqual([]);
    advice.look(patched, 'door', 640, 480, 2 * MISTYPED_KEY_AFTER_MS);
    expect(warnings.map(({ context }) => context)).toEqual([{ sourceId: 'door', keys: ['dor'] }]);
  });

  it('tells of regions in pixels past a camera\'s frames once per frame size', () => {
    const inForce = regions({ scaled: [[30, 366, 210, 62]] });
    const { advice, warnings } = adviceAndWarnings();
    advice.look(inForce, 'scaled', 640, 480, 0);
    advice.look(inForce, 'scaled', 320, 240, 1);
    advice.look(inForce, 'scaled', 320, 240, 2);
    expect(warnings.map(({ context }) => context)).toEqual([{ sourceId: 'scaled', width: 320, height: 240, regions: [[[30, 366], [240, 366], [240, 428], [30, 428]]] }]);
  });
});
