/**
 * RPC params checked against the route's JSON Schema (ajv) before any upstream call. Schemas
 * are compiled once when the routes load; a call only runs the compiled function.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// allErrors: a caller learns every failing path at once, not one per round trip.
const ajv = new Ajv({ allErrors: true, strict: false });
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

/** At most this many problems are named in one answer (the message stays short for clients). */
const MAX_PROBLEMS = 5;

/**
 * A check returning "<path> <what is wrong>" for each failing place (joined by "; "), undefined
 * for valid data. Unexpected properties are named, as are missing ones.
 */
export function compileParamsCheck(schema: Record<string, unknown>): ParamsCheck {
  const validate: ValidateFunction = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return undefined;
    const problems = (validate.errors ?? []).map((error) => {
      const path = error.instancePath === '' ? '/' : error.instancePath;
      if (error.keyword === 'required') return `${path} must have property "${String(error.params.missingProperty)}"`;
      if (error.keyword === 'additionalProperties') return `${path} must not have property "${String(error.params.additionalProperty)}"`;
      return `${path} ${error.message ?? 'invalid'}`;
    });
    const unique = [...new Set(problems)];
    if (unique.length === 0) return 'invalid';
    const shown = unique.slice(0, MAX_PROBLEMS).join('; ');
    return unique.length > MAX_PROBLEMS ? `${shown}; and ${unique.length - MAX_PROBLEMS} more` : shown;
  };
}
