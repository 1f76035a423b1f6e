/** Message properties as IoT Hub's MQTT topics carry them: `key=value&...`, URL-encoded; `$.`-keys are system ones. */
export interface MessageProperties {
  /** Application properties (no `$.` prefix). */
  properties: Record<string, string>;
  /** System properties by their wire names: `$.on` (output name), `$.ct`, `$.ce`, `$.mid`, `$.cid`, ... */
  systemProperties: Record<string, string>;
}

export function parsePropertySegment(segment: string): MessageProperties {
  const result: MessageProperties = { properties: {}, systemProperties: {} };
  for (const pair of segment.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
    (key.startsWith('$.') ? result.systemProperties : result.properties)[key] = value;
  }
  return result;
}

export function formatPropertySegment({ properties, systemProperties }: MessageProperties): string {
  return [...Object.entries(systemProperties), ...Object.entries(properties)]
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}

/** The system properties that describe a message's content and origin, by their meaning. */
export function contentOf(systemProperties: Record<string, string>): { outputName?: string; contentType?: string; contentEncoding?: string } {
  return { outputName: systemProperties['$.on'], contentType: systemProperties['$.ct'], contentEncoding: systemProperties['$.ce'] };
}

/** A message's size as edgeHub measures it against its limit: the body and every property, key and value, in bytes. */
export function messageSize(body: Buffer, { properties, systemProperties }: MessageProperties): number {
  const entries = [...Object.entries(properties), ...Object.entries(systemProperties)];
  return entries.reduce((size, [key, value]) => size + Buffer.byteLength(key) + Buffer.byteLength(value), body.length);
}
