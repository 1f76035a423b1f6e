/**
 * Reported properties keyed by names a module does not choose (a camera's SOURCE_ID): a module twin refuses a
 * property name with a control character (C0, DEL, C1), '.', '$', '#' or whitespace, so those become '_' (camera
 * ids stay readable).
 */
export function twinKey(name: string): string {
  // eslint-disable-next-line no-control-regex
  const key = name.replace(/[\u0000-\u001f\u007f-\u009f.$#\s]/g, '_');
  return key === '' ? '_' : key;
}

/** Entries keyed by twinKey(key of each); a later entry whose key maps to the same name wins. */
export function byTwinKey<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].map(([key, value]) => [twinKey(key), value]));
}
