import type { IgnoredRegions } from './ignore-regions';

/** Where the advice goes: a warning with its context. */
export type AdviceLog = (context: object, message: string) => void;

/**
 * How long after regions come into force a camera without a key of its own is compared with the keys: by then every
 * camera that delivers frames has been seen, so a key that names none of them is not merely a camera yet to start.
 */
export const MISTYPED_KEY_AFTER_MS = 30_000;

/**
 * Mistakes in the ignore regions that would otherwise cost the text they were drawn round without a word, each told
 * once per regions in force: regions in pixels that reach past a camera's frames (measured on a picture of another
 * size), and a key that names no camera but one a typo away from a camera that has no key of its own (`dor` for
 * `door`, or `door_1` as the twin shows `door.1`), whose regions then never apply.
 */
export class IgnoreRegionAdvice {
  /** Per regions in force: when they were first used, the cameras and frame sizes checked, and the cameras told of a key. */
  private readonly checked = new WeakMap<IgnoredRegions, { sinceMs: number; sizes: Set<string>; keys: Set<string> }>();
  private readonly cameras = new Set<string>();

  constructor(
    private readonly warn: AdviceLog,
    private readonly mistypedKeyAfterMs = MISTYPED_KEY_AFTER_MS,
  ) {}

  /** Called with each frame's camera and size; cheap when there is nothing new to tell. */
  look(regions: IgnoredRegions, sourceId: string, width: number, height: number, nowMs = performance.now()): void {
    this.cameras.add(sourceId);
    // Most cameras have no regions at all: nothing to tell, and nothing to key by size, each frame.
    if (regions.isEmpty) return;
    let checked = this.checked.get(regions);
    if (!checked) this.checked.set(regions, (checked = { sinceMs: nowMs, sizes: new Set(), keys: new Set() }));
    const size = JSON.stringify([sourceId, width, height]);
    if (!checked.sizes.has(size)) {
      checked.sizes.add(size);
      this.tellPixelRegionsPast(regions, sourceId, width, height);
    }
    if (!checked.keys.has(sourceId) && nowMs - checked.sinceMs >= this.mistypedKeyAfterMs) {
      checked.keys.add(sourceId);
      this.tellMistypedKeys(regions, sourceId);
    }
  }

  private tellPixelRegionsPast(regions: IgnoredRegions, sourceId: string, width: number, height: number): void {
    const past = regions.pixelRegionsPast(sourceId, width, height);
    if (past.length === 0) return;
    this.warn(
      { sourceId, width, height, regions: past.map(({ points }) => points) },
      `${past.length} ignore region(s) of camera ${JSON.stringify(sourceId)} in pixels reach past its ${width}x${height} frames: ` +
        'measured on a picture of another size (before CAPTURE_WIDTH/CAPTURE_HEIGHT scaled it, or a twin changed its size), they cover another part of the picture, or none; ' +
        'give them in pixels of this size, or in fractions of the frame (0 to 1), which follow its size',
    );
  }

  private tellMistypedKeys(regions: IgnoredRegions, sourceId: string): void {
    if (regions.hasOwnList(sourceId)) return;
    const near = regions.keys().filter((key) => !this.cameras.has(key) && withinTwoEdits(key, sourceId));
    if (near.length === 0) return;
    this.warn(
      { sourceId, keys: near },
      `camera ${JSON.stringify(sourceId)} has no ignore regions of its own, and the key(s) ${near.map((key) => JSON.stringify(key)).join(', ')} name no camera seen: ` +
        `a SOURCE_ID mistyped? (the key is the SOURCE_ID as it is, not as the twin's cameras show it); the camera gets the "*" regions, or none`,
    );
  }
}

/** Whether two names are at most two single-character edits apart (Levenshtein), letter case aside. */
function withinTwoEdits(a: string, b: string): boolean {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (Math.abs(x.length - y.length) > 2) return false;
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[y.length] <= 2;
}
