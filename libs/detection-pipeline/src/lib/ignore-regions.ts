import { EVERY_CAMERA, MAX_SOURCE_ID_BYTES, sourceIdFault, type DetectedBox, type IgnoreRegion } from '@iev/frame-protocol';
import type { EnvVar } from '@iev/service-runtime';

// The regions' shape is the protocol's: inference announces them to the preview as it applies them.
export { EVERY_CAMERA, type IgnoreRegion };

/**
 * One camera's regions, as IGNORE_REGIONS gives them under its SOURCE_ID: a rectangle `[x, y, width, height]` or a
 * polygon `[[x, y], [x, y], [x, y], ...]` (at least three points). A region whose numbers are all from 0 to 1 is in
 * fractions of the frame; one with any number above 1 is in pixels, all of them whole numbers (a region mixing the two,
 * `[0.1, 0.8, 200, 0.1]`, is refused rather than guessed at). `where` names the list in errors.
 */
export function readRegionList(value: unknown, where = ''): IgnoreRegion[] {
  const prefix = where ? `${where} ` : '';
  if (!Array.isArray(value)) throw new Error(`${prefix}must be a list of regions ([x, y, width, height] or [[x, y], ...]), got ${describe(value)}`);
  return value.map((region, index) => readRegion(region, `${prefix}region ${index}`));
}

function readRegion(value: unknown, where: string): IgnoreRegion {
  const shape = 'must be a rectangle [x, y, width, height] or a polygon [[x, y], [x, y], [x, y], ...]';
  if (!Array.isArray(value)) throw new Error(`${where} ${shape}, got ${describe(value)}`);
  const isRectangle = value.length === 4 && value.every((item) => typeof item === 'number');
  const isPolygon = value.length >= 3 && value.every((item) => Array.isArray(item) && item.length === 2 && item.every((n) => typeof n === 'number'));
  if (!isRectangle && !isPolygon) throw new Error(`${where} ${shape}, got ${describe(value)}`);
  const numbers: number[] = value.flat();
  if (numbers.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`${where} must hold numbers of 0 or more, got ${describe(value)}`);
  const unit = numbers.every((n) => n <= 1) ? 'fraction' : 'pixel';
  if (unit === 'pixel' && !numbers.every(Number.isInteger)) {
    throw new Error(`${where} mixes fractions of the frame with pixels (a number above 1 is a pixel): give all in whole pixels or all from 0 to 1, got ${describe(value)}`);
  }
  if (isPolygon) {
    const points = (value as [number, number][]).map(([x, y]) => [x, y] as const);
    if (onOneLine(points)) throw new Error(`${where} has no area: its points must not all lie on one line, got ${describe(value)}`);
    return { unit, points };
  }
  const [x, y, width, height] = value as number[];
  if (width === 0 || height === 0) throw new Error(`${where} has no area: its width and height must be above 0, got ${describe(value)}`);
  if (unit === 'fraction' && (x + width > 1 || y + height > 1)) throw new Error(`${where} reaches past the frame: x + width and y + height must be at most 1 in fractions, got ${describe(value)}`);
  return { unit, points: [[x, y], [x + width, y], [x + width, y + height], [x, y + height]] };
}

/**
 * IGNORE_REGIONS: a JSON object of region lists (readRegionList) by SOURCE_ID, `*` for every camera without a key of
 * its own, e.g. `{"camera0": [[0, 0, 0.35, 0.08]], "*": [[[560, 440], [640, 440], [640, 480]]]}`.
 */
export function readRegionsBySource(raw: string): Map<string, IgnoreRegion[]> {
  const parsed = parseJson(raw);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`must be a JSON object of region lists by SOURCE_ID ("${EVERY_CAMERA}": every camera), got ${describe(parsed)}`);
  return new Map(Object.entries(parsed).map(([sourceId, list]) => [readKey(sourceId), readRegionList(list, `camera ${JSON.stringify(sourceId)}`)]));
}

/**
 * A key no camera can have names none, and the regions announced to the preview (RegionsAnnouncement, keyed by
 * SOURCE_ID) could not carry it: every camera's shading would be lost with it.
 */
function readKey(sourceId: string): string {
  const fault = sourceIdFault(sourceId);
  if (fault === 'empty') throw new Error(`names a camera by an empty key: give its SOURCE_ID, or "${EVERY_CAMERA}" for every camera`);
  if (fault === 'too long') {
    const bytes = Buffer.byteLength(sourceId, 'utf8');
    throw new Error(`names a camera by a key of ${bytes} bytes: a SOURCE_ID has at most ${MAX_SOURCE_ID_BYTES} in UTF-8, got ${JSON.stringify(sourceId.slice(0, 40))}...`);
  }
  return sourceId;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error('must be JSON');
  }
}

/** A twin's string holds at most 4 KB, and the settings in force are reported as one (edgeHub refuses a longer one). */
const MAX_TEXT_BYTES = 4096;

/**
 * IGNORE_REGIONS, or the twin's `ignoreRegions`: checked, and kept as compact JSON text (a twin holds no arrays, and
 * text compares as equal however it was spaced). Read into regions by IgnoredRegions.fromText.
 */
export function regionsBySourceVariable(name: string): EnvVar<string> {
  return {
    names: [name],
    parse: (raw) => {
      readRegionsBySource(raw.trim());
      return compact(raw);
    },
    fallback: undefined,
    required: true,
    // Said when a twin gives an object, which it takes as text only: saying "a JSON object" would ask for what was given.
    description: `text: a JSON object of region lists by SOURCE_ID, as a string, e.g. "{\\"camera0\\": [[0, 0, 0.35, 0.08]]}"`,
  };
}

/** One camera's list (a CAPTURE_SOURCES entry's IGNORE_REGIONS), given as JSON text: checked, and read as JSON. */
export function regionListVariable(name: string): EnvVar<unknown[]> {
  return {
    names: [name],
    parse: (raw) => {
      const list = parseJson(raw.trim());
      readRegionList(list);
      return list as unknown[];
    },
    fallback: undefined,
    required: true,
    description: 'a JSON list of regions, e.g. [[0, 0, 0.35, 0.08]]',
  };
}

/**
 * One camera's list in inference's twin, its `cameras` entry's `ignoreRegions`: checked, and kept as compact JSON text,
 * as a twin holds no arrays (it is reported as given).
 */
export function regionListTextVariable(name: string): EnvVar<string> {
  const list = regionListVariable(name);
  return {
    names: list.names,
    parse: (raw) => compact(JSON.stringify(list.parse(raw))),
    fallback: undefined,
    required: true,
    // Said when a twin gives a list, which it takes as text only.
    description: 'text: a JSON list of regions, as a string, e.g. "[[0, 0, 0.35, 0.08]]"',
  };
}

/**
 * IGNORE_REGIONS with the lists CAPTURE_SOURCES entries give their cameras, which win over its key for the same
 * SOURCE_ID as every entry's variable wins over the module's environment; undefined where neither sets any.
 */
export function withOwnRegionLists(text: string | undefined, own: readonly (readonly [string, unknown[] | undefined])[]): string | undefined {
  const lists = own.filter((entry): entry is readonly [string, unknown[]] => entry[1] !== undefined);
  if (lists.length === 0) return text;
  return compact(JSON.stringify({ ...(text === undefined ? {} : JSON.parse(text)), ...Object.fromEntries(lists) }));
}

function compact(raw: string): string {
  const text = JSON.stringify(JSON.parse(raw));
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw new Error(`must be at most ${MAX_TEXT_BYTES} bytes as compact JSON (a module twin's string, where it is reported), is ${Buffer.byteLength(text)}`);
  return text;
}

/** Each camera's regions: its own list, else the `*` list; an empty list ignores nothing, also where `*` has regions. */
export class IgnoredRegions {
  static readonly NONE = new IgnoredRegions(new Map());

  constructor(private readonly bySource: ReadonlyMap<string, readonly IgnoreRegion[]>) {}

  /** From IGNORE_REGIONS' text (as regionsBySourceVariable keeps it); none when unset. */
  static fromText(text: string | undefined): IgnoredRegions {
    return text === undefined ? IgnoredRegions.NONE : new IgnoredRegions(readRegionsBySource(text));
  }

  /** No camera has regions, nor a key (IGNORE_REGIONS unset, or `{}`). */
  get isEmpty(): boolean {
    return this.bySource.size === 0;
  }

  /** Whether the camera has a key of its own (its regions, or `[]` for none), rather than `*`'s. */
  hasOwnList(sourceId: string): boolean {
    return this.bySource.has(sourceId);
  }

  /** The SOURCE_IDs given regions of their own (`*` left out). */
  keys(): string[] {
    return [...this.bySource.keys()].filter((key) => key !== EVERY_CAMERA);
  }

  /** Every key's regions (`*` too), as the preview is told them (RegionsAnnouncement). */
  byKey(): Record<string, IgnoreRegion[]> {
    return Object.fromEntries([...this.bySource].map(([key, regions]) => [key, [...regions]]));
  }

  regionsOf(sourceId: string): readonly IgnoreRegion[] {
    return this.bySource.get(sourceId) ?? this.bySource.get(EVERY_CAMERA) ?? [];
  }

  /**
   * The camera's regions in pixels that reach past a frame of this size: measured on a picture of another size (before
   * CAPTURE_WIDTH scaled it, or before a twin's new width), they cover another part of the picture, or none.
   */
  pixelRegionsPast(sourceId: string, width: number, height: number): readonly IgnoreRegion[] {
    return this.regionsOf(sourceId).filter(({ unit, points }) => unit === 'pixel' && points.some(([x, y]) => x > width || y > height));
  }

  /** The frame's boxes outside its camera's regions, and how many were inside (frame size: the boxes' pixels). */
  split(sourceId: string, boxes: DetectedBox[], width: number, height: number): { kept: DetectedBox[]; ignored: number } {
    const regions = this.regionsOf(sourceId);
    if (regions.length === 0) return { kept: boxes, ignored: 0 };
    const kept = boxes.filter(({ points }) => {
      const x = points.reduce((sum, [px]) => sum + px, 0) / points.length;
      const y = points.reduce((sum, [, py]) => sum + py, 0) / points.length;
      return !regions.some((region) => (region.unit === 'fraction' ? contains(region.points, x / width, y / height) : contains(region.points, x, y)));
    });
    return { kept, ignored: boxes.length - kept.length };
  }
}

/**
 * Whether every point lies on the line through the first and another (repeated points included): such a polygon holds
 * no point, so it would ignore nothing without a word. Within a rounding error's area: fractions such as 0.1 and 0.3
 * are not exact in binary; a billionth of the frame is under a pixel of any camera's, and whole pixels are exact.
 */
function onOneLine(points: IgnoreRegion['points']): boolean {
  const [[x0, y0]] = points;
  const other = points.find(([x, y]) => x !== x0 || y !== y0);
  if (!other) return true;
  const [dx, dy] = [other[0] - x0, other[1] - y0];
  return points.every(([x, y]) => Math.abs(dx * (y - y0) - dy * (x - x0)) < 1e-9);
}

/** Even-odd rule: whether (x, y) is inside the polygon. */
function contains(points: IgnoreRegion['points'], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
