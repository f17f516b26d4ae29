/**
 * The JSON Schema subset the Python and Go generators understand, as a small type tree:
 * object (properties, required, additionalProperties), array (items), string, number, integer,
 * boolean, enum, and null/nullable (`type: [T, "null"]`, `nullable: true`, null in an enum).
 * Anything else ($ref, oneOf, anyOf, allOf, const, tuples, mixed types) becomes `any` with a
 * note saying why, which the generators print as a comment next to the loosened type.
 */
import { pascal, type Schema } from './model.js';

export type TypeNode =
  | { readonly kind: 'any'; readonly note?: string }
  | { readonly kind: 'string' | 'number' | 'integer' | 'boolean' }
  | { readonly kind: 'enum'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'array'; readonly items: TypeNode }
  | { readonly kind: 'map'; readonly values: TypeNode }
  | { readonly kind: 'object'; readonly name: string }
  | { readonly kind: 'nullable'; readonly inner: TypeNode };

export interface Field {
  /** The JSON property name. */
  readonly json: string;
  readonly type: TypeNode;
  readonly required: boolean;
  readonly description?: string;
}

export interface ObjectDecl {
  readonly name: string;
  readonly description?: string;
  readonly fields: readonly Field[];
}

const UNSUPPORTED = ['$ref', 'oneOf', 'anyOf', 'allOf', 'not', 'const', 'if', 'patternProperties', 'prefixItems'] as const;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);
const descriptionOf = (s: Schema): string | undefined => (typeof s.description === 'string' && s.description.trim() !== '' ? s.description.trim() : undefined);

/** Collects the named object types of one or more schemas; names are unique across the collection. */
export class TypeCollector {
  readonly decls: ObjectDecl[] = [];
  private readonly names = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.names.add(name);
  }

  /** A name not used yet: `base`, else `base2`, `base3`... */
  private claim(base: string): string {
    let name = base;
    for (let n = 2; this.names.has(name); n++) name = `${base}${n}`;
    this.names.add(name);
    return name;
  }

  /** The type of `schema`; objects are declared under `name` (or a numbered variant). */
  convert(schema: unknown, name: string): TypeNode {
    if (schema === true || schema === undefined) return { kind: 'any' };
    if (!isSchema(schema)) return { kind: 'any', note: 'not a schema object' };
    // {} (perhaps with a description) is any value on purpose: no note needed.
    if (Object.keys(schema).every((k) => k === 'description' || k === 'title' || k.startsWith('x-'))) return { kind: 'any' };
    const unsupported = UNSUPPORTED.find((k) => k in schema);
    if (unsupported) return { kind: 'any', note: `${unsupported} is not supported by this generator` };
    if (schema.nullable === true) return nullable(this.convert({ ...schema, nullable: false }, name));
    if (Array.isArray(schema.enum)) return this.enumType(schema.enum as unknown[]);
    let type = schema.type;
    if (Array.isArray(type)) {
      const nonNull = type.filter((t) => t !== 'null');
      if (nonNull.length === 1) {
        const inner = this.convert({ ...schema, type: nonNull[0] }, name);
        return type.includes('null') ? nullable(inner) : inner;
      }
      if (nonNull.length === 0) return { kind: 'any', note: 'only null' };
      return { kind: 'any', note: `one of several types (${nonNull.join(', ')})` };
    }
    if (type === undefined) {
      // Object and array keywords without a type still say what the value is.
      if ('properties' in schema || 'additionalProperties' in schema) type = 'object';
      else if ('items' in schema) type = 'array';
      else return { kind: 'any', note: 'the schema has no type' };
    }
    switch (type) {
      case 'string':
      case 'number':
      case 'integer':
      case 'boolean':
        return { kind: type };
      case 'array':
        if (Array.isArray(schema.items)) return { kind: 'array', items: { kind: 'any', note: 'tuple items are not supported' } };
        return { kind: 'array', items: this.convert(schema.items, `${name}Item`) };
      case 'object':
        return this.objectType(schema, name);
      default:
        return { kind: 'any', note: `type ${JSON.stringify(type)} is not supported` };
    }
  }

  private enumType(values: unknown[]): TypeNode {
    const nonNull = values.filter((v) => v !== null);
    const ok = nonNull.every((v) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v)));
    const inner: TypeNode = ok && nonNull.length > 0 ? { kind: 'enum', values: nonNull as (string | number | boolean)[] } : { kind: 'any', note: 'enum of values other than strings, integers and booleans' };
    return values.includes(null) ? nullable(inner) : inner;
  }

  private objectType(schema: Schema, name: string): TypeNode {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
    const keys = Object.keys(properties);
    if (keys.length === 0) {
      const extra = schema.additionalProperties;
      return { kind: 'map', values: isSchema(extra) ? this.convert(extra, `${name}Value`) : { kind: 'any' } };
    }
    const declName = this.claim(name);
    const fields: Field[] = [];
    for (const key of keys) {
      const prop = properties[key];
      const fieldName = `${declName}${pascal(key.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w.toLowerCase())) || 'Field'}`;
      const desc = isSchema(prop) ? descriptionOf(prop) : undefined;
      fields.push({ json: key, type: this.convert(prop, fieldName), required: required.has(key), ...(desc ? { description: desc } : {}) });
    }
    // Declared after the types of its fields, so every language sees them defined first.
    this.decls.push({ name: declName, ...(descriptionOf(schema) ? { description: descriptionOf(schema) } : {}), fields });
    return { kind: 'object', name: declName };
  }
}

function nullable(inner: TypeNode): TypeNode {
  return inner.kind === 'nullable' || inner.kind === 'any' ? inner : { kind: 'nullable', inner };
}
