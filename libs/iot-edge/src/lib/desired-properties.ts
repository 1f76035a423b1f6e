import { maskCredentials, type ConfigOf, type EnvSpec, type EnvVar } from '@iev/service-runtime';

/**
 * A desired property holding named groups of settings, each group read as the module's own settings are: inference's
 * `cameras`, `{ "camera1": { "fps": 5 } }`. `names` are the module's own groups (its cameras at start-up), by twin
 * key: the twin sets their settings, and null returns them to start-up. Where `added` is given the twin may add groups
 * of its own as well, which null removes.
 */
export interface DesiredGroups<G extends EnvSpec = EnvSpec> {
  readonly spec: G;
  readonly names: readonly string[];
  /** What a group is, for errors: `cameras.door is not a camera of this module`. */
  readonly noun: string;
  readonly added?: AddedGroups<G>;
}

/** How the twin adds a group of its own. */
export interface AddedGroups<G extends EnvSpec = EnvSpec> {
  /** Settings a group must set to be added (a camera's source): nothing else says what it would be. */
  readonly required: readonly string[];
  /** What an added group's other settings are before the twin sets them, and after it sets them to null. */
  defaults(name: string): Partial<ConfigOf<G>>;
  /** Why a name cannot be a new group's (it would be taken for another), or undefined where it can. */
  refuse?(name: string): string | undefined;
}

export function desiredGroups<G extends EnvSpec>(spec: G, names: readonly string[], noun: string, added?: AddedGroups<G>): DesiredGroups<G> {
  return { spec, names, noun, ...(added && { added }) };
}

function isGroups(variable: EnvVar<unknown> | DesiredGroups): variable is DesiredGroups {
  return 'noun' in variable;
}

/**
 * The module twin's desired properties a module accepts, each parsed by the same validators as its env
 * variables (a twin value is checked exactly like the variable it overrides), or a group of such (DesiredGroups).
 */
export type DesiredSpec = Record<string, EnvVar<unknown> | DesiredGroups>;
export type DesiredValues<S extends DesiredSpec> = {
  [K in keyof S]: S[K] extends DesiredGroups<infer G> ? Record<string, ConfigOf<G>> : S[K] extends EnvVar<infer T> ? T : never;
};

export interface DesiredUpdate<S extends DesiredSpec> {
  /** Valid values that differ from the current settings; a group property's is its every group after the change. */
  changes: Partial<DesiredValues<S>>;
  /** One line per rejected value, naming the property; rejected values are not applied. */
  errors: string[];
}

/**
 * Reads a desired-properties document (the full one at connect, or a patch) against the current settings.
 * A property set to null (removed from the twin) returns to its start-up value; so does one missing from a
 * `complete` document, the full one at connect (it was removed while the module was away). `$version`,
 * `$metadata` and other `$` keys are the twin's own and are skipped. In a group property the same holds for each
 * group and each of its settings: a patch names only what changed, as IoT Hub merges it.
 */
export function readDesired<S extends DesiredSpec>(
  spec: S,
  desired: Record<string, unknown>,
  current: DesiredValues<S>,
  startup: DesiredValues<S>,
  { complete = false }: { complete?: boolean } = {},
): DesiredUpdate<S> {
  const errors: string[] = [];
  const changes = readProperties(spec, desired, current, startup, complete, { path: '', owner: 'this module' }, errors);
  return { changes: changes as Partial<DesiredValues<S>>, errors };
}

type Values = Record<string, unknown>;

/** Where readDesired is reading: `path` prefixes the names its errors give (`cameras.camera1.`), `owner` has the settings. */
interface Place {
  path: string;
  owner: string;
}

/** readDesired's work at one level. */
function readProperties(spec: DesiredSpec, desired: Values, current: Values, startup: Values, complete: boolean, { path, owner }: Place, errors: string[]): Values {
  const changes: Values = {};
  const document = complete ? { ...Object.fromEntries(Object.keys(spec).map((property) => [property, null])), ...desired } : desired;
  for (const [property, raw] of Object.entries(document)) {
    if (property.startsWith('$')) continue;
    const named = `${path}${property}`;
    const variable = spec[property];
    if (!variable) {
      errors.push(`${named} is not a setting of ${owner} (settings: ${Object.keys(spec).join(', ')})`);
      continue;
    }
    if (isGroups(variable)) {
      const groups = readGroups(variable, raw, current[property] as Record<string, Values>, startup[property] as Record<string, Values>, complete, named, errors);
      if (groups) changes[property] = groups;
      continue;
    }
    let value: unknown;
    if (raw === null) {
      value = startup[property];
    } else if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
      try {
        value = variable.parse(String(raw));
      } catch (error) {
        errors.push(`${named} ${(error as Error).message} (got ${quoted(raw)})`);
        continue;
      }
    } else {
      errors.push(`${named} must be ${variable.description} (got ${quoted(raw)})`);
      continue;
    }
    if (value !== current[property]) changes[property] = value;
  }
  return changes;
}

/**
 * Every group after the document's changes, or undefined when none changed. Null returns them all to start-up, which
 * has none of the groups the twin added; so does a complete document for the groups it leaves out.
 */
function readGroups(
  groups: DesiredGroups,
  raw: unknown,
  current: Record<string, Values>,
  startup: Record<string, Values>,
  complete: boolean,
  named: string,
  errors: string[],
): Record<string, Values> | undefined {
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    errors.push(`${named} must be an object of ${groups.noun}s by name (got ${quoted(raw)})`);
    return undefined;
  }
  const added = Object.keys(current).filter((name) => !groups.names.includes(name));
  const unset = (value: Values | null) => Object.fromEntries([...groups.names.map((name) => [name, value]), ...added.map((name) => [name, null])]);
  const document: Values = raw === null ? unset(null) : complete ? { ...unset({}), ...raw } : (raw as Values);
  const next = { ...current };
  let changed = false;
  for (const [name, groupRaw] of Object.entries(document)) {
    if (name.startsWith('$')) continue;
    if (groupRaw !== null && (typeof groupRaw !== 'object' || Array.isArray(groupRaw))) {
      errors.push(`${named}.${name} must be an object of settings (got ${quoted(groupRaw)})`);
      continue;
    }
    const place = { path: `${named}.${name}.`, owner: `a ${groups.noun}` };
    if (!groups.names.includes(name)) {
      const group = readAddedGroup(groups, name, groupRaw as Values | null, current[name], complete, place, named, errors);
      if (group === current[name]) continue;
      if (group) next[name] = group;
      else delete next[name];
      changed = true;
      continue;
    }
    // A group set to null is one whose every setting is left out of a complete document: back to start-up.
    const groupChanges = readProperties(groups.spec, (groupRaw ?? {}) as Values, current[name], startup[name], complete || groupRaw === null, place, errors);
    if (Object.keys(groupChanges).length === 0) continue;
    next[name] = { ...current[name], ...groupChanges };
    changed = true;
  }
  return changed ? next : undefined;
}

/**
 * A group that is not the module's own: added, changed, or removed by null (undefined). Returns `current` itself when
 * nothing changes, a rejected change included.
 */
function readAddedGroup(
  groups: DesiredGroups,
  name: string,
  groupRaw: Values | null,
  current: Values | undefined,
  complete: boolean,
  place: Place,
  named: string,
  errors: string[],
): Values | undefined {
  const { added, noun, names } = groups;
  if (!added) {
    errors.push(`${named}.${name} is not a ${noun} of this module (${noun}s: ${names.join(', ')})`);
    return current;
  }
  if (groupRaw === null) return undefined;
  const refused = current ? undefined : added.refuse?.(name);
  if (refused) {
    errors.push(`${named}.${name} cannot be added: ${refused}`);
    return current;
  }
  let defaults: Values;
  try {
    defaults = added.defaults(name) as Values;
  } catch (error) {
    errors.push(`${named}.${name} cannot be added: ${(error as Error).message}`);
    return current;
  }
  const before = current ?? defaults;
  const changes = readProperties(groups.spec, groupRaw, before, defaults, complete, place, errors);
  const group = { ...before, ...changes };
  const missing = added.required.filter((setting) => group[setting] === undefined);
  if (missing.length > 0) {
    // Only the first time: a group already added has what it needs, and a null for it is rejected like any bad value.
    errors.push(
      current
        ? `${place.path}${missing.join(', ')} cannot be unset: set ${name} to null to remove the ${noun}`
        : `${named}.${name} is not a ${noun} of this module; to add one, set its ${missing.join(' and ')} (${noun}s: ${names.join(', ')})`,
    );
    return current;
  }
  return current && Object.keys(changes).length === 0 ? current : group;
}

/** The most of a rejected value an error quotes: enough to recognise it, never a reported property edgeHub refuses. */
const QUOTED_VALUE_CHARS = 100;

/** The value as an error quotes it, a camera URL's password masked before it is cut. */
function quoted(raw: unknown): string {
  const text = maskCredentials(JSON.stringify(raw) ?? String(raw));
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
