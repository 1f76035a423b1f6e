import type { ConfigOf, EnvSpec } from '@iev/service-runtime';

/**
 * The module twin's desired properties a module accepts, each parsed by the same validators as its env
 * variables (a twin value is checked exactly like the variable it overrides).
 */
export type DesiredSpec = EnvSpec;
export type DesiredValues<S extends DesiredSpec> = ConfigOf<S>;

export interface DesiredUpdate<S extends DesiredSpec> {
  /** Valid values that differ from the current settings. */
  changes: Partial<DesiredValues<S>>;
  /** One line per rejected value, naming the property; rejected values are not applied. */
  errors: string[];
}

/**
 * Reads a desired-properties document (the full one at connect, or a patch) against the current settings.
 * A property set to null (removed from the twin) returns to its start-up value; so does one missing from a
 * `complete` document, the full one at connect (it was removed while the module was away). `$version`,
 * `$metadata` and other `$` keys are the twin's own and are skipped.
 */
export function readDesired<S extends DesiredSpec>(
  spec: S,
  desired: Record<string, unknown>,
  current: DesiredValues<S>,
  startup: DesiredValues<S>,
  { complete = false }: { complete?: boolean } = {},
): DesiredUpdate<S> {
  const changes: Record<string, unknown> = {};
  const errors: string[] = [];
  const document = complete ? { ...Object.fromEntries(Object.keys(spec).map((property) => [property, null])), ...desired } : desired;
  for (const [property, raw] of Object.entries(document)) {
    if (property.startsWith('$')) continue;
    const variable = spec[property];
    if (!variable) {
      errors.push(`${property} is not a setting of this module (settings: ${Object.keys(spec).join(', ')})`);
      continue;
    }
    let value: unknown;
    if (raw === null) {
      value = startup[property];
    } else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
      try {
        value = variable.parse(String(raw));
      } catch (error) {
        errors.push(`${property} ${(error as Error).message} (got ${quoted(raw)})`);
        continue;
      }
    } else {
      errors.push(`${property} must be ${variable.description} (got ${quoted(raw)})`);
      continue;
    }
    if (value !== current[property]) changes[property] = value;
  }
  return { changes: changes as Partial<DesiredValues<S>>, errors };
}

/** The most of a rejected value an error quotes: enough to recognise it, never a reported property edgeHub refuses. */
const QUOTED_VALUE_CHARS = 100;

function quoted(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > QUOTED_VALUE_CHARS ? `${text.slice(0, QUOTED_VALUE_CHARS)}…` : text;
}

/**
 * The text cut to at most `maxBytes` of UTF-8, ending in … when cut: edgeHub refuses a reported string over 4096
 * bytes, and with it the whole report, so a long error would keep every later report (settings included) out.
 */
export function withinBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes - 3) cut = cut.slice(0, -1);
  return `${cut}…`;
}
