/**
 * Reduces a loaded .proto to what decides wire compatibility, as plain objects that
 * assert.deepEqual can compare and print: per message its fields (number, name, type, label),
 * oneofs and nested definitions; per enum its values; per service its methods. Comments, field
 * order in the file and option spelling are left out: they do not reach the wire.
 */
import protobuf from 'protobufjs';

export interface FieldShape {
  readonly name: string;
  readonly number: number;
  /** A scalar name, or the full name of a message or enum (so two files compare by package too). */
  readonly type: string;
  readonly label: string;
}

export interface MessageShape {
  readonly fields: FieldShape[];
  readonly oneofs: Record<string, string[]>;
}

export interface MethodShape {
  readonly request: string;
  readonly response: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export interface ProtoShape {
  /** Namespaces that hold definitions directly, e.g. "centrifugal.centrifugo.proxy". */
  readonly packages: string[];
  /** By full name, nested messages included as Outer.Inner. */
  readonly messages: Map<string, MessageShape>;
  readonly enums: Map<string, Record<string, number>>;
  readonly services: Map<string, Record<string, MethodShape>>;
}

/** Loads a .proto with field names as written; fails if any referenced type is unknown. */
export function loadProto(file: string): protobuf.Root {
  const root = new protobuf.Root().loadSync(file, { keepCase: true });
  root.resolveAll();
  return root;
}

const name = (fullName: string) => fullName.replace(/^\./, '');

function typeOf(field: protobuf.Field): string {
  return field.resolvedType ? name(field.resolvedType.fullName) : field.type;
}

function labelOf(field: protobuf.Field): string {
  if (field instanceof protobuf.MapField) return `map<${field.keyType}>`;
  if (field.repeated) return 'repeated';
  // proto3 `optional` changes presence on the wire's decoding side; say so when it is there.
  return field.options?.proto3_optional ? 'optional' : 'singular';
}

function messageShape(type: protobuf.Type): MessageShape {
  const fields = Object.values(type.fields)
    .map((f) => ({ name: f.name, number: f.id, type: typeOf(f), label: labelOf(f) }))
    .sort((a, b) => a.number - b.number);
  const oneofs = Object.fromEntries(
    Object.values(type.oneofs ?? {})
      .map((o) => [o.name, [...o.oneof].sort()] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return { fields, oneofs };
}

function methodShape(method: protobuf.Method): MethodShape {
  return {
    request: name(method.resolvedRequestType?.fullName ?? method.requestType),
    response: name(method.resolvedResponseType?.fullName ?? method.responseType),
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
  };
}

/** Walks every namespace below `root` (google.protobuf imports included, as the file uses them). */
export function protoShape(root: protobuf.Root): ProtoShape {
  const shape: ProtoShape = { packages: [], messages: new Map(), enums: new Map(), services: new Map() };
  const visit = (ns: protobuf.NamespaceBase) => {
    let holdsDefinitions = false;
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type) {
        holdsDefinitions = true;
        shape.messages.set(name(child.fullName), messageShape(child));
      } else if (child instanceof protobuf.Enum) {
        holdsDefinitions = true;
        shape.enums.set(name(child.fullName), { ...child.values });
      } else if (child instanceof protobuf.Service) {
        holdsDefinitions = true;
        shape.services.set(name(child.fullName), Object.fromEntries(Object.values(child.methods).map((m) => [m.name, methodShape(m)])));
      }
      // Messages and services are namespaces too: nested messages and enums are found by the same walk.
      if (child instanceof protobuf.Namespace) visit(child);
    }
    if (holdsDefinitions && !(ns instanceof protobuf.Type) && ns !== ns.root) shape.packages.push(name(ns.fullName));
  };
  visit(root);
  shape.packages.sort();
  return shape;
}
