import { ModuleTwin } from './twin';
import { applyReportedPatch, twinGetReply } from './twin-requests';

describe('twin requests', () => {
  it('applies a reported patch, answering 204 with the new version', () => {
    const twin = new ModuleTwin({ fps: 10 });
    const { reply, applied } = applyReportedPatch(twin, '5', Buffer.from('{"fps":10}'));
    expect(reply).toEqual({ topic: '$iothub/twin/res/204/?$rid=5&$version=2', payload: '' });
    expect(applied).toEqual({ patch: { fps: 10 }, version: 2 });
    expect(JSON.parse(twinGetReply(twin, '6').payload)).toEqual({ desired: { fps: 10, $version: 1 }, reported: { fps: 10, $version: 2 } });
  });

  it('answers 400 to a patch that is not a JSON object, and leaves the twin as it was', () => {
    const twin = new ModuleTwin();
    const { reply, applied } = applyReportedPatch(twin, '5', Buffer.from('[1]'));
    expect(reply.topic).toBe('$iothub/twin/res/400/?$rid=5');
    expect(JSON.parse(reply.payload)).toEqual({ errorCode: 400004, message: 'invalid reported properties patch: a reported properties patch must be a JSON object, got an array' });
    expect(applied).toBeUndefined();
    expect(twin.reportedVersion).toBe(1);
  });

  const nested = (depth: number): Record<string, unknown> => (depth === 0 ? { leaf: 1 } : { n: nested(depth - 1) });

  it.each([
    ['a name with a control character', { 'a\u0007b': 1 }, 'Property name a\u0007b contains invalid character "\\u0007"'],
    ['a name with a C1 control character', { 'a\u0085b': 1 }, 'Property name a\u0085b contains invalid character "\u0085"'],
    ['a name with a dot, deep down', { ok: { 'a.b': 1 } }, 'Property name a.b contains invalid character "."'],
    ['a name with a tab', { 'a\tb': 1 }, 'Property name a\tb contains invalid character "\\t"'],
    ['a name over 1 KB', { ['é'.repeat(513)]: 1 }, `Length of property name ${'é'.repeat(10)}.. exceeds maximum length of 1024`],
    ['a string value over 4096 bytes', { s: 'é'.repeat(2049) }, 'Value associated with property name s has length 4098 that exceeds maximum length of 4096'],
    ['objects nested deeper than 10', nested(11), 'Nested depth of twin property exceeds 10'],
    ['an integer below -2^52', { n: -(2 ** 52) - 1 }, 'Property n has an out of bound value. Valid values are between -4503599627370496 and 4503599627370495'],
    ['null in a nested array', { a: [[1, null]] }, "Arrays cannot contain 'null' as value"],
    ['a patch over 32 KB', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i}`, 'x'.repeat(4000)])), 'Twin properties size 36073 exceeds maximum 32768'],
  ])('answers 400 to %s, as edgeHub does', (_what, patch, why) => {
    const twin = new ModuleTwin();
    const { reply, applied } = applyReportedPatch(twin, '7', Buffer.from(JSON.stringify(patch)));
    expect(reply.topic).toBe('$iothub/twin/res/400/?$rid=7');
    expect(JSON.parse(reply.payload)).toEqual({ errorCode: 400004, message: `invalid reported properties patch: ${why}` });
    expect(applied).toBeUndefined();
  });

  it('accepts what edgeHub accepts at its limits', () => {
    const atLimits = { ...nested(10), name: 'é'.repeat(2048), ['k'.repeat(1024)]: 2 ** 52 - 1, low: -(2 ** 52), list: [[1], { a: null }], gone: null, f: 1.5 };
    expect(applyReportedPatch(new ModuleTwin(), '8', Buffer.from(JSON.stringify(atLimits))).reply.topic).toMatch(/^\$iothub\/twin\/res\/204\//);
  });
});
