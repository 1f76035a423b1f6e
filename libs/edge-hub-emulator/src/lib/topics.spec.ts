import { publicationOf, twinResponseTopic } from './topics';

describe('publicationOf (what a module published, by topic)', () => {
  const of = (topic: string) => publicationOf('dev', 'capture', topic);

  it('reads messages with and without a property segment, the trailing slash dropped', () => {
    expect(of('devices/dev/modules/capture/messages/events')).toEqual({ kind: 'event', propertySegment: '' });
    expect(of('devices/dev/modules/capture/messages/events/%24.on=frames&k=v/')).toEqual({ kind: 'event', propertySegment: '%24.on=frames&k=v' });
  });

  it('reads twin requests and method answers with their request ids and status', () => {
    expect(of('$iothub/twin/GET/?$rid=7')).toEqual({ kind: 'twinGet', requestId: '7' });
    expect(of('$iothub/twin/PATCH/properties/reported/?$rid=8')).toEqual({ kind: 'reported', requestId: '8' });
    expect(of('$iothub/methods/res/200/?$rid=a')).toEqual({ kind: 'methodResponse', status: 200, requestId: 'a' });
  });

  it("refuses another module's or another device's topics", () => {
    expect(of('devices/dev/modules/inference/messages/events')).toBeUndefined();
    expect(of('devices/other/modules/capture/messages/events')).toBeUndefined();
    expect(of('devices/dev/modules/capture/inputs/frames/')).toBeUndefined();
  });
});

describe('twinResponseTopic', () => {
  it('carries the version only when there is one', () => {
    expect(twinResponseTopic(200, '3')).toBe('$iothub/twin/res/200/?$rid=3');
    expect(twinResponseTopic(204, '4', 9)).toBe('$iothub/twin/res/204/?$rid=4&$version=9');
  });
});
