import type { DetectionsSummary, UpstreamPayload } from './detections-aggregator';

/** edgeHub refuses a bigger message, whatever its settings (Azure/iotedge#1554); a refused message is retried forever. */
export const EDGE_HUB_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * What a message's body and application properties may take (UTF-8): about 12 KB under edgeHub's limit, left for
 * the system properties (message id, content type, output name) and what edgeHub adds.
 */
export const MESSAGE_BUDGET_BYTES = 250_000;

/** Room kept when a payload is fitted for `droppedMessagesBefore` and `droppedBefore`, which are added when it is sent. */
const DROPPED_BEFORE_ALLOWANCE_BYTES = 100;

/** A payload fitted to the budget: what was left out of it is counted (`truncatedBoxes`, `truncatedTexts`). */
export type UpstreamBody = UpstreamPayload & { truncatedBoxes?: number; truncatedTexts?: number };

export type MessageProperties = Record<string, string | number>;

/** The bytes a message's body and application properties take. */
export function messageBytes(body: unknown, properties: MessageProperties): number {
  let bytes = Buffer.byteLength(JSON.stringify(body));
  for (const [key, value] of Object.entries(properties)) bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  return bytes;
}

export function messagePropertiesOf(payload: UpstreamPayload): MessageProperties {
  // An event's type is its messageType (text-appeared, text-changed, text-gone): routes pick the kinds they want.
  const sourceId = payload.type === 'detections' ? payload.frame.sourceId : payload.sourceId;
  return { sourceId, modelId: payload.modelId, messageType: payload.type };
}

/**
 * The payload as sent, within MESSAGE_BUDGET_BYTES with room for the drop count: over it, boxes are left out from the
 * end (a summary's listed texts, most seen first, are kept before the newest frame's boxes) and counted. Undefined when
 * even without boxes and texts it is too big (a message that can never be sent must not block the queue).
 */
export function fitToBudget(payload: UpstreamPayload): UpstreamBody | undefined {
  const budget = MESSAGE_BUDGET_BYTES - DROPPED_BEFORE_ALLOWANCE_BYTES;
  const properties = messagePropertiesOf(payload);
  if (messageBytes(payload, properties) <= budget) return payload;
  // An event holds one line (a text of at most 1000 characters): there is nothing to leave out of it.
  if (payload.type !== 'detections' && payload.type !== 'detections-summary') return undefined;

  // Measured with the counts at their largest, so the fitted message is never bigger than measured.
  if (payload.type === 'detections') {
    const room = budget - messageBytes({ ...payload, boxes: [], truncatedBoxes: payload.boxes.length }, properties);
    if (room < 0) return undefined;
    const boxes = leadingItemsWithin(payload.boxes, room);
    return { ...payload, boxes: boxes.kept, truncatedBoxes: payload.boxes.length - boxes.kept.length };
  }
  const allTexts = payload.texts ?? [];
  const textsLeftOut = payload.truncatedTexts ?? 0;
  const bare = { ...payload, texts: [], truncatedTexts: textsLeftOut + allTexts.length, last: { ...payload.last, boxes: [] }, truncatedBoxes: payload.last.boxes.length };
  const room = budget - messageBytes(bare, properties);
  if (room < 0) return undefined;
  const texts = leadingItemsWithin(allTexts, room);
  const boxes = leadingItemsWithin(payload.last.boxes, room - texts.bytes);
  const fitted: DetectionsSummary & { truncatedBoxes?: number } = { ...payload, last: { ...payload.last, boxes: boxes.kept } };
  if (texts.kept.length < allTexts.length) {
    fitted.texts = texts.kept;
    fitted.truncatedTexts = textsLeftOut + allTexts.length - texts.kept.length;
  }
  if (boxes.kept.length < payload.last.boxes.length) fitted.truncatedBoxes = payload.last.boxes.length - boxes.kept.length;
  return fitted;
}

/** The leading items whose JSON, each with its comma, fits in `room` bytes, and the bytes they take. */
function leadingItemsWithin<T>(items: readonly T[], room: number): { kept: T[]; bytes: number } {
  let bytes = 0;
  let count = 0;
  for (const item of items) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes + itemBytes > room) break;
    bytes += itemBytes;
    count += 1;
  }
  return { kept: items.slice(0, count), bytes };
}
