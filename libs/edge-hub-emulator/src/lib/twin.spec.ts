import { mergePatch, ModuleTwin } from './twin';

describe('module twin', () => {
  it('merge-patches (RFC 7396): objects merge, null deletes, arrays and scalars replace', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: null, f: 4 }, e: [2], g: { h: 1 } })).toEqual({ b: { d: 3, f: 4 }, e: [2], g: { h: 1 } });
  });

  it('versions desired and reported separately, $-keys are metadata, not properties', () => {
    const twin = new ModuleTwin({ fps: 15, $version: 7 });
    expect(twin.document()).toEqual({ desired: { fps: 15, $version: 1 }, reported: { $version: 1 } });
    expect(twin.patchDesired({ fps: 5, $version: 99 })).toBe(2);
    expect(twin.patchReported({ state: 'ok' })).toBe(2);
    expect(twin.snapshot()).toEqual({ desired: { fps: 5 }, reported: { state: 'ok' } });
  });
});
