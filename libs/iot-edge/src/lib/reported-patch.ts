type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A report as the JSON merge patch that makes the twin's reported document say it: reported properties merge, so a key
 * that an object in the report held last time (`reported`, the twin's document as the SDK keeps it) and no longer holds
 * (a camera removed) is sent as null, or it would stay. Each object a module reports is whole; the properties it leaves
 * out of a report are left as they are (`$version` and the SDK's own too). The SDK's document changes when edgeHub
 * acknowledges a report: one made before the last was acknowledged may miss its nulls, which the next periodic report
 * sends.
 */
export function reportedPatch(reported: Json, report: Json): Json {
  return Object.fromEntries(Object.entries(report).map(([key, value]) => [key, isObject(value) && isObject(reported[key]) ? wholeObject(reported[key], value) : value]));
}

function wholeObject(before: Json, now: Json): Json {
  const vanished = Object.keys(before).filter((key) => !key.startsWith('$') && typeof before[key] !== 'function' && !(key in now));
  return { ...reportedPatch(before, now), ...Object.fromEntries(vanished.map((key) => [key, null])) };
}

/**
 * A patch whose update failed, kept in `reported` (the SDK's document, which only an acknowledged update changes) as
 * sent but for its nulls: edgeHub may have applied it with its answer lost or garbled, and a key it added that the
 * next report leaves out must be sent as null then. A key that is not in the twin gets a null it does not need; a
 * null that failed is sent again, its key still there.
 */
export function keepUnacknowledged(reported: Json, patch: Json): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) continue;
    if (isObject(value) && isObject(reported[key])) keepUnacknowledged(reported[key], value);
    // A copy: the SDK merges later patches into its document in place, and the value may be the module's own object.
    else reported[key] = structuredClone(value);
  }
}
