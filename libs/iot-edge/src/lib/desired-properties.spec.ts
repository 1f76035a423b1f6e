import { env } from '@iev/service-runtime';
import { desiredGroups, readDesired } from './desired-properties';

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

describe('readDesired with a group property (a module\'s cameras)', () => {
  const cameraSpec = { source: env.string('source'), fps: env.number('fps', { min: 0, max: 1000 }, 0) };
  const withCameras = { preset: spec.preset, cameras: desiredGroups(cameraSpec, ['camera0', 'door'], 'camera') };
  const cameras = { camera0: { source: '/dev/video0', fps: 0 }, door: { source: 'rtsp://door/stream', fps: 10 } };
  const start = { preset: 'seed' as const, cameras };

  it("changes only the named cameras' named settings, as IoT Hub sends a patch, and gives every camera after it", () => {
    const update = readDesired(withCameras, { cameras: { door: { fps: '5' } } }, start, start);
    expect(update).toEqual({ changes: { cameras: { camera0: cameras.camera0, door: { source: 'rtsp://door/stream', fps: 5 } } }, errors: [] });
  });

  it('changes nothing for values it already has', () => {
    expect(readDesired(withCameras, { cameras: { door: { fps: 10 }, camera0: {} } }, start, start)).toEqual({ changes: {}, errors: [] });
  });

  it('names a camera the module does not have, a wrong value by its path, and shapes that are not objects; the rest applies', () => {
    const update = readDesired(withCameras, { cameras: { garage: { fps: 5 }, door: { fps: -1, source: 'testsrc' }, camera0: 'testsrc' } }, start, start);
    expect(update.changes).toEqual({ cameras: { camera0: cameras.camera0, door: { source: 'testsrc', fps: 10 } } });
    expect(update.errors).toEqual([
      'cameras.garage is not a camera of this module (cameras: camera0, door)',
      'cameras.door.fps must be a number from 0 to 1000 (got -1)',
      'cameras.camera0 must be an object of settings (got "testsrc")',
    ]);
    expect(readDesired(withCameras, { cameras: 'testsrc' }, start, start).errors).toEqual(['cameras must be an object of cameras by name (got "testsrc")']);
    expect(readDesired(withCameras, { cameras: { door: { colour: 'red' } } }, start, start).errors).toEqual(['cameras.door.colour is not a setting of a camera (settings: source, fps)']);
    // A URL where the camera's settings go: quoted with its password masked, before a long one is cut.
    const url = `rtsp://admin:secret@${'cam'.repeat(40)}/ch1`;
    expect(readDesired(withCameras, { cameras: { door: url } }, start, start).errors).toEqual([expect.stringMatching(/^cameras\.door must be an object of settings \(got "rtsp:\/\/admin:\*\*\*@c[acm]+…\)$/)]);
  });

  it('returns a setting, a camera or all cameras set to null to their start-up values', () => {
    const current = { preset: 'seed' as const, cameras: { camera0: { source: 'testsrc', fps: 2 }, door: { source: 'testsrc', fps: 3 } } };
    expect(readDesired(withCameras, { cameras: { door: { fps: null } } }, current, start).changes).toEqual({ cameras: { camera0: current.cameras.camera0, door: { source: 'testsrc', fps: 10 } } });
    expect(readDesired(withCameras, { cameras: { camera0: null } }, current, start).changes).toEqual({ cameras: { camera0: cameras.camera0, door: current.cameras.door } });
    expect(readDesired(withCameras, { cameras: null }, current, start).changes).toEqual({ cameras });
  });

  it('returns what a complete document leaves out to start-up, a camera or a setting; a patch leaves it', () => {
    const current = { preset: 'seed' as const, cameras: { camera0: { source: 'testsrc', fps: 2 }, door: { source: 'testsrc', fps: 3 } } };
    const document = { cameras: { door: { source: 'testsrc' } }, $version: 3 };
    expect(readDesired(withCameras, document, current, start, { complete: true }).changes).toEqual({ cameras: { camera0: cameras.camera0, door: { source: 'testsrc', fps: 10 } } });
    expect(readDesired(withCameras, document, current, start).changes).toEqual({});
    // No `cameras` at all: every camera back to start-up; a bad entry in it is named, the rest applied.
    expect(readDesired(withCameras, { preset: 'seed' }, current, start, { complete: true }).changes).toEqual({ cameras });
    const update = readDesired(withCameras, { cameras: { camera0: { fps: 'fast' } } }, current, start, { complete: true });
    expect(update.errors).toEqual(['cameras.camera0.fps must be a number from 0 to 1000 (got "fast")']);
    expect(update.changes).toEqual({ cameras: { camera0: { source: '/dev/video0', fps: 2 }, door: cameras.door } });
  });
});

describe('readDesired with groups the twin may add (cameras added to a module)', () => {
  const cameraSpec = { source: env.string('source'), fps: env.number('fps', { min: 0, max: 1000 }, 0) };
  const withCameras = { cameras: desiredGroups(cameraSpec, ['camera0'], 'camera', { required: ['source'], defaults: () => ({ fps: 4 }) }) };
  const start = { cameras: { camera0: { source: '/dev/video0', fps: 0 } } };
  const added = { cameras: { ...start.cameras, garage: { source: 'rtsp://garage/stream', fps: 4 } } };

  it('adds a group that sets what it must, its other settings from the defaults', () => {
    expect(readDesired(withCameras, { cameras: { garage: { source: 'rtsp://garage/stream' } } }, start, start)).toEqual({ changes: added, errors: [] });
  });

  it('refuses to add a group without what it must set, naming it', () => {
    expect(readDesired(withCameras, { cameras: { garage: { fps: 5 } } }, start, start)).toEqual({
      changes: {},
      errors: ['cameras.garage is not a camera of this module; to add one, set its source (cameras: camera0)'],
    });
  });

  it('changes an added group by patch, refuses to unset what it must have, and removes it with null', () => {
    expect(readDesired(withCameras, { cameras: { garage: { fps: 2 } } }, added, start).changes).toEqual({ cameras: { ...added.cameras, garage: { source: 'rtsp://garage/stream', fps: 2 } } });
    expect(readDesired(withCameras, { cameras: { garage: { fps: 4 } } }, added, start)).toEqual({ changes: {}, errors: [] });
    expect(readDesired(withCameras, { cameras: { garage: { source: null } } }, added, start)).toEqual({
      changes: {},
      errors: ['cameras.garage.source cannot be unset: set garage to null to remove the camera'],
    });
    expect(readDesired(withCameras, { cameras: { garage: null } }, added, start).changes).toEqual(start);
    expect(readDesired(withCameras, { cameras: { shed: null } }, added, start)).toEqual({ changes: {}, errors: [] });
  });

  it('refuses a name the module refuses for a new group, and one whose defaults cannot be read, saying why', () => {
    const refusing = {
      cameras: desiredGroups(cameraSpec, ['camera0'], 'camera', {
        required: ['source'],
        defaults: (name) => {
          if (name === 'broken') throw new Error('CAPTURE_FPS must be a number');
          return { fps: 4 };
        },
        refuse: (name) => (name.includes('#') ? 'no # in a camera name' : undefined),
      }),
    };
    const update = readDesired(refusing, { cameras: { 'gate#2': { source: 'testsrc' }, broken: { source: 'testsrc' } } }, start, start);
    expect(update).toEqual({
      changes: {},
      errors: ['cameras.gate#2 cannot be added: no # in a camera name', 'cameras.broken cannot be added: CAPTURE_FPS must be a number'],
    });
  });

  it('removes added groups that a complete document leaves out, and all of them when the property is null', () => {
    expect(readDesired(withCameras, { cameras: { camera0: {} } }, added, start, { complete: true }).changes).toEqual(start);
    expect(readDesired(withCameras, {}, added, start, { complete: true }).changes).toEqual(start);
    expect(readDesired(withCameras, { cameras: null }, added, start).changes).toEqual(start);
    // Named in the complete document: kept, its settings left out back to the defaults.
    const kept = readDesired(withCameras, { cameras: { garage: { source: 'rtsp://garage/stream' } } }, { cameras: { ...added.cameras, garage: { source: 'rtsp://garage/stream', fps: 9 } } }, start, { complete: true });
    expect(kept.changes).toEqual(added);
  });
});
