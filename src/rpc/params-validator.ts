/**
 * RPC params checked against the route's JSON Schema (ajv) before any upstream call. Schemas
 * are compiled once when the routes load; a call only runs the compiled function.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const ajv = new Ajv({ allErrors: false, strict: false });
// ajv-formats is CommonJS: under NodeNext the function is the module's `default` property.
type AddFormats = (instance: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;
addFormats(ajv);

export type ParamsCheck = (data: unknown) => string | undefined;

/** Why a schema cannot be used, or undefined when it compiles. */
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    ajv.compile(schema);
    return undefined;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

/** A check returning "<path> <what is wrong>" for invalid params, undefined for valid ones. */
export function compileParamsCheck(schema: Record<string, unknown>): ParamsCheck {
  const validate: ValidateFunction = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return undefined;
    const [first] = validate.errors ?? [];
    if (!first) return 'invalid';
    const path = first.instancePath === '' ? '/' : first.instancePath;
    const detail = first.keyword === 'required' ? `must have property "${String(first.params.missingProperty)}"` : (first.message ?? 'invalid');
    return `${path} ${detail}`;
  };
}
