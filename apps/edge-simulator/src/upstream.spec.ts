import type { UpstreamMessage } from '@iev/edge-hub-emulator';
import { formatUpstream, upstreamRecord } from './upstream';

const message = (body: Buffer, extra: Partial<UpstreamMessage> = {}): UpstreamMessage => ({
  moduleId: 'telemetry',
  outputName: 'detections',
  body,
  properties: {},
  systemProperties: {},
  receivedAt: Date.parse('2025-01-01T00:00:00Z'),
  ...extra,
});

describe('upstream output', () => {
  it('prints one line: source, size, content type, properties, a short preview', () => {
    const json = message(Buffer.from('{"frame": 1,\n "texts": []}'), { contentType: 'application/json', contentEncoding: 'utf-8', properties: { frame: '1' } });
    expect(formatUpstream(json)).toBe('telemetry/detections  26 B  application/json; utf-8  {frame=1}  {"frame": 1, "texts": []}');
    expect(formatUpstream(message(Buffer.from('x'.repeat(30))), 10)).toBe('telemetry/detections  30 B  xxxxxxxxxx…');
    expect(formatUpstream(message(Buffer.from([0xff, 0x00]), { outputName: undefined }))).toBe('telemetry/(no output)  2 B  <binary ff00>');
  });

  it('records the body as JSON, text or base64 and says which', () => {
    expect(upstreamRecord(message(Buffer.from('{"a":1}'), { contentType: 'application/json' }))).toMatchObject({ bodyEncoding: 'json', body: { a: 1 }, receivedAt: '2025-01-01T00:00:00.000Z' });
    expect(upstreamRecord(message(Buffer.from('hi')))).toMatchObject({ bodyEncoding: 'utf8', body: 'hi' });
    expect(upstreamRecord(message(Buffer.from([0xff])))).toMatchObject({ bodyEncoding: 'base64', body: '/w==' });
  });
});
