import { keepUnacknowledged, reportedPatch } from './reported-patch';

describe('reportedPatch', () => {
  const reported = {
    $version: 7,
    update: () => undefined,
    version: '0.1.0',
    settings: { preset: 'default', cameras: { camera0: { fps: 0 }, garage: { fps: 5, source: 'rtsp://garage' } } },
    sources: { camera0: { fps: 9 }, garage: { fps: 5 } },
  };

  it('sends as null what an object in the report held last time and no longer holds, at any depth', () => {
    const report = { settings: { preset: 'default', cameras: { camera0: { fps: 0 } } }, sources: { camera0: { fps: 8 } } };
    expect(reportedPatch(reported, report)).toEqual({
      settings: { preset: 'default', cameras: { camera0: { fps: 0 }, garage: null } },
      sources: { camera0: { fps: 8 }, garage: null },
    });
  });

  it("leaves alone the properties a report leaves out, the twin's own and values that were not objects", () => {
    expect(reportedPatch(reported, { lastDesired: { version: 3, status: 'applied', error: null } })).toEqual({ lastDesired: { version: 3, status: 'applied', error: null } });
    expect(reportedPatch(reported, { version: '0.2.0', settings: { preset: 'seed' } })).toEqual({
      version: '0.2.0',
      settings: { preset: 'seed', cameras: null },
    });
    expect(reportedPatch({ sources: 'none yet' }, { sources: { camera0: { fps: 1 } } })).toEqual({ sources: { camera0: { fps: 1 } } });
  });
});

describe('keepUnacknowledged', () => {
  it('keeps what a failed patch added, so that the next report nulls it, and the keys it nulled, so that it nulls them again', () => {
    const reported: Record<string, unknown> = { sources: { door: { fps: 1 }, garage: { fps: 5 } } };
    keepUnacknowledged(reported, { sources: { gate: { fps: 2 }, garage: null } });
    expect(reported).toEqual({ sources: { door: { fps: 1 }, garage: { fps: 5 }, gate: { fps: 2 } } });
    expect(reportedPatch(reported, { sources: { door: { fps: 1 } } })).toEqual({ sources: { door: { fps: 1 }, garage: null, gate: null } });
  });

  it("keeps a copy, not the module's own object, which the SDK's later merges would change", () => {
    const lastDesired = { version: 3, status: 'applied', error: null };
    const reported: Record<string, unknown> = {};
    keepUnacknowledged(reported, { lastDesired });
    expect(reported['lastDesired']).toEqual(lastDesired);
    expect(reported['lastDesired']).not.toBe(lastDesired);
  });
});
