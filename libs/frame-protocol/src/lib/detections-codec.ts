import { MessageKind } from './envelope';
import { invalidField, readArray, readDimension, readEpochMs, readFiniteNumber, readInteger, readNonEmptyString, readObject, readRunId, readSequence, readSourceId } from './fields';
import { jsonPartCodec } from './json-part';
import type { Codec, DetectedBox, Detections, LineCounts, Point, StageTimings } from './types';

/** More lines than any frame holds (the DB postprocess keeps at most 1000 candidates). */
const MAX_LINES = 100_000;
/** Longest line text accepted: far beyond any line a recognizer reads (PP-OCR's widest input gives ~200). */
const MAX_TEXT_LENGTH = 1000;

/**
 * The largest detections part: a frame's most boxes (the DB postprocess keeps at most 1000), each with the longest
 * text, come to ~1.2 MB. A larger part is refused before it is parsed: JSON.parse builds the whole document first,
 * and a few MB of small objects take a hundred MB of heap or more.
 */
export const MAX_DETECTIONS_PART_BYTES = 4 * 1024 * 1024;

/**
 * Detections as one ZeroMQ part: the binary preamble, then UTF-8 JSON (jsonPartCodec). Both directions run the same
 * reader, which checks every field and builds a fresh object of exactly the declared shape; unknown fields are
 * dropped rather than rejected, so a newer producer can add fields without breaking older consumers. `runId` and the
 * boxes' `lineId` came later in version 2, as the sources' `complete` did in 3: an older telemetry or preview drops
 * them and reads the rest, where a new version would have it refuse every detection while modules update one at a time.
 */
export const detectionsCodec: Codec<Detections> = jsonPartCodec(MessageKind.Detections, 'detections', MAX_DETECTIONS_PART_BYTES, readDetections);

function readDetections(value: unknown): Detections {
  const detections = readObject(value, 'detections');
  const frame = readObject(detections.frame, 'frame');
  return {
    frame: {
      sourceId: readSourceId(frame.sourceId, 'frame.sourceId'),
      sequence: readSequence(frame.sequence, 'frame.sequence'),
      captureTimeMs: readEpochMs(frame.captureTimeMs, 'frame.captureTimeMs'),
    },
    width: readDimension(detections.width, 'width'),
    height: readDimension(detections.height, 'height'),
    modelId: readNonEmptyString(detections.modelId, 'modelId'),
    boxes: readArray(detections.boxes, 'boxes').map((box, index) => readBox(box, `boxes[${index}]`)),
    timings: readTimings(detections.timings, 'timings'),
    ...(detections.lines !== undefined && { lines: readLineCounts(detections.lines, 'lines') }),
    ...(detections.ignored !== undefined && { ignored: readInteger(detections.ignored, 'ignored', 0, MAX_LINES) }),
    publishedAtMs: readEpochMs(detections.publishedAtMs, 'publishedAtMs'),
    ...(detections.runId !== undefined && { runId: readRunId(detections.runId, 'runId') }),
  };
}

function readLineCounts(value: unknown, path: string): LineCounts {
  const lines = readObject(value, path);
  const count = (field: 'read' | 'carried' | 'dropped') => readInteger(lines[field], `${path}.${field}`, 0, MAX_LINES);
  const read: LineCounts = { read: count('read'), carried: count('carried'), dropped: count('dropped') };
  if (lines.textAfterMs !== undefined) {
    read.textAfterMs = readArray(lines.textAfterMs, `${path}.textAfterMs`).map((ms, i) => readFiniteNumber(ms, `${path}.textAfterMs[${i}]`, 0));
  }
  return read;
}

function readBox(value: unknown, path: string): DetectedBox {
  const box = readObject(value, path);
  const points = readArray(box.points, `${path}.points`, 4).map((point, index) => readPoint(point, `${path}.points[${index}]`));
  const read: DetectedBox = { points: [points[0], points[1], points[2], points[3]], score: readFiniteNumber(box.score, `${path}.score`) };
  if (box.lineId !== undefined) read.lineId = readInteger(box.lineId, `${path}.lineId`, 1, Number.MAX_SAFE_INTEGER);
  if (box.text === undefined && box.textScore === undefined) return read;
  read.text = readText(box.text, `${path}.text`);
  read.textScore = readFiniteNumber(box.textScore, `${path}.textScore`, 0);
  if (read.textScore > 1) invalidField(`${path}.textScore`, `must be at most 1, got ${read.textScore}`);
  return read;
}

/** A line's text: any string (empty when nothing was read), bounded so a corrupt message cannot be huge. */
function readText(value: unknown, path: string): string {
  if (typeof value !== 'string') invalidField(path, `must be a string beside textScore, got ${value === null ? 'null' : typeof value}`);
  if (value.length > MAX_TEXT_LENGTH) invalidField(path, `must be at most ${MAX_TEXT_LENGTH} characters`);
  return value;
}

function readPoint(value: unknown, path: string): Point {
  const [x, y] = readArray(value, path, 2);
  const coordinate = (axis: unknown, index: number) => readInteger(axis, `${path}[${index}]`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return [coordinate(x, 0), coordinate(y, 1)];
}

function readTimings(value: unknown, path: string): StageTimings {
  const timings = readObject(value, path);
  const read: StageTimings = {
    transportMs: readFiniteNumber(timings.transportMs, `${path}.transportMs`),
    preprocessMs: readFiniteNumber(timings.preprocessMs, `${path}.preprocessMs`),
    inferenceMs: readFiniteNumber(timings.inferenceMs, `${path}.inferenceMs`),
    postprocessMs: readFiniteNumber(timings.postprocessMs, `${path}.postprocessMs`),
  };
  if (timings.recognizeMs !== undefined) read.recognizeMs = readFiniteNumber(timings.recognizeMs, `${path}.recognizeMs`);
  return read;
}
