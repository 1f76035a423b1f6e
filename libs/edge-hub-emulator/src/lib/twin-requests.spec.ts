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
});
