import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv-draft-04';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Returns one readable line per schema violation; empty when the document is valid. */
export type DeploymentValidator = (document: unknown) => string[];

export interface DeploymentValidators {
  /** `deployment/*.template.json`: createOptions may be objects. */
  template: DeploymentValidator;
  /** A generated manifest, as IoT Hub takes it: createOptions are strings. */
  manifest: DeploymentValidator;
}

// The template schema $refs these by file name.
const REFERENCED_SCHEMAS = ['azure-iot-edgeagent-deployment-1.1.json', 'azure-iot-edgehub-deployment-1.2.json'];
const TEMPLATE_SCHEMA = 'azure-iot-edge-deployment-template-4.0.json';
const MANIFEST_SCHEMA = 'azure-iot-edge-deployment-2.0.json';

/** Validators for the SchemaStore schemas kept in `schemasDir` (the workspace's `schemas/`). */
export function loadDeploymentValidators(schemasDir: string): DeploymentValidators {
  const readSchema = (file: string) => JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as object;
  // The schemas use union types (`"type": ["object", "string"]`), which ajv's strict mode wants allowed explicitly.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  // Annotations the schemas use that draft-04 does not define; strict mode rejects unknown keywords.
  ajv.addKeyword('examples');
  ajv.addKeyword('contentMediaType');
  for (const file of REFERENCED_SCHEMAS) ajv.addSchema(readSchema(file), file);
  return {
    template: validatorFor(ajv.compile(readSchema(TEMPLATE_SCHEMA))),
    manifest: validatorFor(ajv.compile(readSchema(MANIFEST_SCHEMA))),
  };
}

function validatorFor(validate: ValidateFunction): DeploymentValidator {
  return (document) => (validate(document) ? [] : (validate.errors ?? []).map(describeError));
}

function describeError(error: ErrorObject): string {
  const extra = 'additionalProperty' in error.params ? ` ("${String(error.params['additionalProperty'])}")` : '';
  return `${error.instancePath || '(root)'}: ${error.message ?? error.keyword}${extra}`;
}
