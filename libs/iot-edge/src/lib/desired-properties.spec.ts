import { env } from '@iev/service-runtime';
import { readDesired } from './desired-properties';

const spec = {
  boxThresh: env.number('boxThresh', { min: 0, max: 1 }),
  preset: env.oneOf('preset', ['seed', 'default'] as const),
  fps: env.integer('fps', { min: 0, max: 240 }),
};
const startup = { boxThresh: 0.5, preset: 'seed' as const, fps: 0 };

describe('readDesired', () => {
  it('returns only valid values that differ from the current settings', () => {
    const update = readDesired(spec, { boxThresh: 0.7, preset: 'seed', fps: '15', $version: 4 }, startup, startup);
    expect(update).toEqual({ changes: { boxThresh: 0.7, fps: 15 }, errors: [] });
  });

  it('rejects an invalid value with the property named, and still takes the valid ones', () => {
    const update = readDesired(spec, { boxThresh: 2, fps: 10 }, startup, startup);
    expect(update.changes).toEqual({ fps: 10 });
    expect(update.errors).toEqual(['boxThresh must be a number from 0 to 1 (got 2)']);
  });

  it('rejects objects, unknown properties and wrong choices', () => {
    const update = readDesired(spec, { preset: 'fast', fps: { value: 3 }, colour: 'red', $metadata: {} }, startup, startup);
    expect(update.changes).toEqual({});
    expect(update.errors).toEqual([
      'preset must be one of seed, default (got "fast")',
      'fps must be an integer (got {"value":3})',
      'colour is not a setting of this module (settings: boxThresh, preset, fps)',
    ]);
  });

  it('returns a property set to null (removed from the twin) to its start-up value', () => {
    const current = { ...startup, boxThresh: 0.8 };
    expect(readDesired(spec, { boxThresh: null }, current, startup).changes).toEqual({ boxThresh: 0.5 });
  });

  it('returns a property missing from a complete document (removed while disconnected) to its start-up value; a patch leaves it', () => {
    const current = { ...startup, boxThresh: 0.8, fps: 10 };
    const document = { fps: 10, $version: 7 };
    expect(readDesired(spec, document, current, startup, { complete: true })).toEqual({ changes: { boxThresh: 0.5 }, errors: [] });
    expect(readDesired(spec, document, current, startup).changes).toEqual({});
  });
});
