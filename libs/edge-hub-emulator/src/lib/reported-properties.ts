import { isObject, type JsonObject } from './twin';

// edgeHub's ReportedPropertiesValidator (Azure/iotedge, edge-hub/core/.../twin/ReportedPropertiesValidator.cs),
// whose limits are IoT Hub's: a patch breaking one is answered 400 and never reaches the twin.
const MAX_DEPTH = 10;
const MAX_VALUE_BYTES = 4096;
const MAX_NAME_BYTES = 1024;
const MAX_SAFE_INTEGER = 2 ** 52 - 1;
const MIN_SAFE_INTEGER = -(2 ** 52);
const MAX_PATCH_BYTES = 32 * 1024;
/** .NET's char.IsControl (C0, DEL, C1) and char.IsWhiteSpace, plus '.', '$' (reserved for $version, $metadata) and '#' (IoT Hub's stand-in for '$'). */
// eslint-disable-next-line no-control-regex
const INVALID_NAME_CHARACTER = /[\u0000-\u001f\u007f-\u009f.$#\s]/u;

/** Why edgeHub would refuse this reported-properties patch, in its words; undefined when it accepts it. */
export function reportedPatchProblem(patch: JsonObject): string | undefined {
  return propertiesProblem(patch, 1) ?? sizeProblem(patch) ?? arrayProblem(patch);
}

function propertiesProblem(properties: JsonObject, depth: number): string | undefined {
  for (const [name, value] of Object.entries(properties)) {
    const problem = nameProblem(name) ?? valueProblem(name, value);
    if (problem) return problem;
    if (isObject(value)) {
      if (depth > MAX_DEPTH) return `Nested depth of twin property exceeds ${MAX_DEPTH}`;
      const nested = propertiesProblem(value, depth + 1);
      if (nested) return nested;
    }
  }
  return undefined;
}

function nameProblem(name: string): string | undefined {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `Length of property name ${name.slice(0, 10)}.. exceeds maximum length of ${MAX_NAME_BYTES}`;
  const invalid = INVALID_NAME_CHARACTER.exec(name);
  return invalid ? `Property name ${name} contains invalid character ${JSON.stringify(invalid[0])}` : undefined;
}

/**
 * Only a property's own value is checked, as edgeHub does: integers and strings inside arrays are not. JSON.parse
 * does not say how a number was written: 1e300 counts as an integer here, where edgeHub reads a float.
 */
function valueProblem(name: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && (value > MAX_SAFE_INTEGER || value < MIN_SAFE_INTEGER)) {
    return `Property ${name} has an out of bound value. Valid values are between ${MIN_SAFE_INTEGER} and ${MAX_SAFE_INTEGER}`;
  }
  if (typeof value === 'string' && Buffer.byteLength(value) > MAX_VALUE_BYTES) {
    return `Value associated with property name ${name} has length ${Buffer.byteLength(value)} that exceeds maximum length of ${MAX_VALUE_BYTES}`;
  }
  return undefined;
}

function sizeProblem(patch: JsonObject): string | undefined {
  const size = Buffer.byteLength(JSON.stringify(patch));
  return size > MAX_PATCH_BYTES ? `Twin properties size ${size} exceeds maximum ${MAX_PATCH_BYTES}` : undefined;
}

function arrayProblem(value: unknown): string | undefined {
  if (Array.isArray(value) && value.includes(null)) return "Arrays cannot contain 'null' as value";
  const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
  for (const child of children) {
    const problem = arrayProblem(child);
    if (problem) return problem;
  }
  return undefined;
}
