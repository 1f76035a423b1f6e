export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON Merge Patch (RFC 7396), as twin patches apply: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isObject(value)) result[key] = mergePatch(isObject(result[key]) ? (result[key] as JsonObject) : {}, value);
    else result[key] = value;
  }
  return result;
}

/** Twin sections carry their version as `$version`; it is not a property, so it never lands in the stored twin. */
function withoutMetadata(properties: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !key.startsWith('$')));
}

/** One module twin: desired (the deployment's, then patches) and reported (the module's), each versioned. */
export class ModuleTwin {
  private desired: JsonObject;
  private reported: JsonObject = {};
  desiredVersion = 1;
  reportedVersion = 1;

  constructor(desired: JsonObject = {}) {
    this.desired = withoutMetadata(desired);
  }

  /** The body of a twin GET response. */
  document(): { desired: JsonObject; reported: JsonObject } {
    return {
      desired: { ...structuredClone(this.desired), $version: this.desiredVersion },
      reported: { ...structuredClone(this.reported), $version: this.reportedVersion },
    };
  }

  snapshot(): { desired: JsonObject; reported: JsonObject } {
    return { desired: structuredClone(this.desired), reported: structuredClone(this.reported) };
  }

  patchDesired(patch: JsonObject): number {
    this.desired = mergePatch(this.desired, withoutMetadata(patch));
    return ++this.desiredVersion;
  }

  /** A patch edgeHub accepts (reportedPatchProblem): it has no `$` names to strip. */
  patchReported(patch: JsonObject): number {
    this.reported = mergePatch(this.reported, patch);
    return ++this.reportedVersion;
  }
}

export function assertJsonObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} must be a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  return value;
}
