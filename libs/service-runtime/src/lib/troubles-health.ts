/** A module's /health from its troubles: degraded while any is present, each named; only `healthy: true` without. */
export type TroublesHealth<T extends object> = { healthy: boolean; status?: 'degraded' } & Partial<T>;

/** Troubles undefined while all is well are left out; nothing restarts for them (/live stays 200). */
export function troublesHealth<T extends object>(troubles: T): TroublesHealth<T> {
  const present = Object.fromEntries(Object.entries(troubles).filter(([, trouble]) => trouble !== undefined)) as Partial<T>;
  const verdict = Object.keys(present).length === 0 ? { healthy: true } : { healthy: false, status: 'degraded' as const };
  return { ...verdict, ...present };
}
