import type { UpstreamMessage } from '@iev/edge-hub-emulator';
import { TextDecoder } from 'node:util';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}

/** One console line: `module/output  size  content type  properties  body preview`. */
export function formatUpstream(message: UpstreamMessage, previewChars = 100): string {
  const text = asText(message.body);
  const preview =
    text === undefined
      ? `<binary ${message.body.subarray(0, 16).toString('hex')}${message.body.length > 16 ? '…' : ''}>`
      : text.replace(/\s+/g, ' ').slice(0, previewChars) + (text.length > previewChars ? '…' : '');
  const properties = Object.entries(message.properties).map(([key, value]) => `${key}=${value}`);
  return [
    `${message.moduleId}/${message.outputName ?? '(no output)'}`,
    `${message.body.length} B`,
    [message.contentType, message.contentEncoding].filter(Boolean).join('; ') || undefined,
    properties.length > 0 ? `{${properties.join(', ')}}` : undefined,
    preview,
  ]
    .filter((part) => part !== undefined)
    .join('  ');
}

/**
 * A JSON line for --out: the body as JSON when the message says it is (and parses), as text when it is UTF-8,
 * base64 otherwise; `bodyEncoding` says which.
 */
export function upstreamRecord(message: UpstreamMessage): Record<string, unknown> {
  const text = asText(message.body);
  let body: unknown = text;
  let bodyEncoding = 'utf8';
  if (text === undefined) {
    body = message.body.toString('base64');
    bodyEncoding = 'base64';
  } else if (message.contentType?.toLowerCase().startsWith('application/json')) {
    try {
      body = JSON.parse(text);
      bodyEncoding = 'json';
    } catch {
      // Says JSON, is not: keep the text.
    }
  }
  return {
    receivedAt: new Date(message.receivedAt).toISOString(),
    moduleId: message.moduleId,
    outputName: message.outputName,
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    properties: message.properties,
    systemProperties: message.systemProperties,
    bodyEncoding,
    body,
  };
}
