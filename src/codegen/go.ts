/**
 * The Go client: a struct over centrifuge-go's `Client.RPC(ctx, method, data)` with a method per
 * route, a struct per object schema (json tags; optional fields are pointers with omitempty),
 * and an *RPCError per failure that errors.Is matches against the Err* sentinels.
 */
import { describe, headerText, pascal, type ApiModel, type Schema } from './model.js';
import { TypeCollector, type ObjectDecl, type TypeNode } from './schema-ir.js';

export const CENTRIFUGE_GO = { module: 'github.com/centrifugal/centrifuge-go', version: 'v0.12.1', go: '1.25.0' } as const;

const commentLines = (text: string, indent = ''): string => text.split('\n').map((l) => `${indent}//${l ? ` ${l}` : ''}`).join('\n') + '\n';

function goType(t: TypeNode): { text: string; notes: string[] } {
  switch (t.kind) {
    case 'any':
      return { text: 'json.RawMessage', notes: t.note ? [t.note] : [] };
    case 'string':
      return { text: 'string', notes: [] };
    case 'number':
      return { text: 'float64', notes: [] };
    case 'integer':
      return { text: 'int64', notes: [] };
    case 'boolean':
      return { text: 'bool', notes: [] };
    case 'enum': {
      const kinds = new Set(t.values.map((v) => typeof v));
      const values = `one of ${t.values.map((v) => JSON.stringify(v)).join(', ')}`;
      if (kinds.size === 1 && kinds.has('string')) return { text: 'string', notes: [values] };
      if (kinds.size === 1 && kinds.has('number')) return { text: 'int64', notes: [values] };
      if (kinds.size === 1 && kinds.has('boolean')) return { text: 'bool', notes: [values] };
      return { text: 'json.RawMessage', notes: [`enum of mixed types: ${values}`] };
    }
    case 'array': {
      const inner = goType(t.items);
      return { text: `[]${inner.text}`, notes: inner.notes };
    }
    case 'map': {
      const inner = goType(t.values);
      return { text: `map[string]${inner.text}`, notes: inner.notes };
    }
    case 'object':
      return { text: t.name, notes: [] };
    case 'nullable': {
      const inner = goType(t.inner);
      return { text: nilable(inner.text) ? inner.text : `*${inner.text}`, notes: inner.notes };
    }
  }
}

const nilable = (text: string): boolean => text.startsWith('[]') || text.startsWith('map[') || text.startsWith('*') || text === 'json.RawMessage';

function fieldName(json: string, taken: Set<string>): string {
  const words = json
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  let name = words.map((w) => (w === 'id' ? 'ID' : w[0]!.toUpperCase() + w.slice(1))).join('') || 'Field';
  if (/^[0-9]/.test(name)) name = `F${name}`;
  const base = name;
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
  taken.add(name);
  return name;
}

function struct(decl: ObjectDecl): string {
  const lines: string[] = [];
  lines.push(commentLines(`${decl.name}${decl.description ? `: ${decl.description}` : ' is generated from a JSON Schema object.'}`));
  lines.push(`type ${decl.name} struct {\n`);
  const taken = new Set<string>();
  const rows = decl.fields.map((f) => {
    const { text, notes } = goType(f.type);
    // Optional: a pointer (or a nil-able slice/map/raw value) that omitempty leaves out when unset.
    const type = f.required || nilable(text) ? text : `*${text}`;
    const tag = `\`json:"${f.json.replace(/[`"\\]/g, '')}${f.required ? '' : ',omitempty'}"\``;
    return { name: fieldName(f.json, taken), type, tag, note: notes.join('; '), description: f.description };
  });
  // Aligned as gofmt aligns them.
  const width = (key: 'name' | 'type' | 'tag') => Math.max(...rows.map((r) => r[key].length));
  const [nameWidth, typeWidth, tagWidth] = [width('name'), width('type'), width('tag')];
  const anyNote = rows.some((r) => r.note);
  for (const r of rows) {
    if (r.description) lines.push(commentLines(r.description, '\t'));
    const tag = r.note || !anyNote ? r.tag.padEnd(r.note ? tagWidth : 0) : r.tag;
    lines.push(`\t${r.name.padEnd(nameWidth)} ${r.type.padEnd(typeWidth)} ${tag}${r.note ? ` // ${r.note}` : ''}\n`);
  }
  lines.push('}\n');
  return lines.join('');
}

const goString = (s: string): string => JSON.stringify(s);

export function goFiles(model: ApiModel, packageName: string, modulePath: string): Record<string, string> {
  const pkg = packageName.toLowerCase().replace(/[^a-z0-9]/g, '') || 'rpcclient';
  const reserved = ['Client', 'New', 'RPCError', 'Transport', ...model.proxyErrors.map((e) => `Err${e.name}`)];
  const types = new TypeCollector(reserved);
  const aliases: string[] = [];
  const methods: string[] = [];
  for (const m of model.methods) {
    const base = pascal(m.words);
    for (const what of ['params', 'result'] as const) {
      const schema: Schema | undefined = m[what];
      const name = `${base}${what === 'params' ? 'Params' : 'Result'}`;
      if (!schema) {
        aliases.push(`// ${name}: ${m.route} has no ${what}_schema in rpc.routes, so the ${what} is raw JSON.\ntype ${name} = json.RawMessage\n`);
        continue;
      }
      const t = types.convert(schema, name);
      if (t.kind === 'object' && t.name === name) continue;
      const { text, notes } = goType(t);
      aliases.push(`// ${name} is the ${what} of ${m.route}.${notes.length > 0 ? ` Raw JSON where: ${notes.join('; ')}.` : ''}\ntype ${name} ${text}\n`);
    }
    const docs: string[] = [m.prefix !== undefined ? `${base} calls "${m.prefix}"+name (route ${m.route}).` : `${base} calls ${m.route}.`];
    const what = describe(m.params) ?? describe(m.result);
    if (what) docs.push('', what);
    if (m.errors.length > 0) {
      docs.push('', 'Documented errors (match with errors.Is):');
      for (const e of m.errors) docs.push(`  - Err${pascal(e.name.split('_'))} (${e.code})${e.description ? `: ${e.description}` : ''}`);
    }
    docs.push('', 'A failure is an *RPCError: errors.Is(err, ErrBadRequest) and the like tell the kind.');
    const args = m.prefix !== undefined ? `ctx context.Context, name string, params ${base}Params` : `ctx context.Context, params ${base}Params`;
    const target = m.prefix !== undefined ? `${goString(m.prefix)}+name` : goString(m.route);
    methods.push(
      `${commentLines(docs.join('\n'))}func (c *Client) ${base}(${args}) (${base}Result, error) {\n\tvar result ${base}Result\n\terr := c.call(ctx, ${target}, params, &result)\n\treturn result, err\n}\n`,
    );
  }

  const sentinels = [
    ...model.proxyErrors.map((e) => ({ name: `Err${e.name}`, code: e.code, doc: `${e.code} "${e.message}": ${e.doc}.` })),
    ...model.appErrors.map((e) => ({ name: `Err${pascal(e.name.split('_'))}`, code: e.code, doc: `${e.code} "${e.name}", documented by the upstream${e.description ? `: ${e.description}` : '.'}` })),
  ];
  const out: string[] = [];
  out.push(`// ${headerText(model)}

// Package ${pkg} is a typed RPC client for Centrifugo over centrifuge-go:
//
//	c := centrifuge.NewJsonClient(url, centrifuge.Config{Token: token})
//	_ = c.Connect()
//	result, err := ${pkg}.New(c).TasksCreate(ctx, ${pkg}.TasksCreateParams{Title: "x"})
package ${pkg}

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"${CENTRIFUGE_GO.module}"
)

// RPCError is every failed call: the proxy's own errors, errors the upstream documents or not
// (codes 400-1999) and transport errors (Code 0 when the SDK failed before any reply).
type RPCError struct {
	Method    string
	Code      uint32
	Message   string
	Temporary bool
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s: %d %s", e.Method, e.Code, e.Message) }

// Is matches the Err* sentinels by code: errors.Is(err, ErrBadRequest).
func (e *RPCError) Is(target error) bool {
	t, ok := target.(*RPCError)
	return ok && t.Method == "" && t.Code == e.Code
}

// Application tells an application error from the upstream (code 400-1999, not the proxy's own).
func (e *RPCError) Application() bool {
	switch e.Code {
	case ${model.proxyErrors.map((p) => p.code).join(', ')}:
		return false
	}
	return e.Code >= 400 && e.Code <= 1999
}

var (
${sentinels.map((s) => `\t// ${s.name}: ${s.doc}\n\t${s.name} = &RPCError{Code: ${s.code}}`).join('\n')}
)

// Transport is what Client needs: *centrifuge.Client, or a test double.
type Transport interface {
	RPC(ctx context.Context, method string, data []byte) (centrifuge.RPCResult, error)
}

// Client makes typed RPC calls through Centrifugo.
type Client struct{ t Transport }

// New wraps a connected (or connecting) centrifuge-go client.
func New(t Transport) *Client { return &Client{t: t} }

func (c *Client) call(ctx context.Context, method string, params any, result any) error {
	data, err := json.Marshal(params)
	if err != nil {
		return &RPCError{Method: method, Message: "encoding params: " + err.Error()}
	}
	reply, err := c.t.RPC(ctx, method, data)
	if err != nil {
		var e *centrifuge.Error
		if errors.As(err, &e) {
			return &RPCError{Method: method, Code: e.Code, Message: e.Message, Temporary: e.Temporary}
		}
		return &RPCError{Method: method, Message: err.Error(), Temporary: true}
	}
	if len(reply.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(reply.Data, result); err != nil {
		return &RPCError{Method: method, Message: "decoding result: " + err.Error()}
	}
	return nil
}
`);
  for (const decl of types.decls) out.push(`\n${struct(decl)}`);
  for (const a of aliases) out.push(`\n${a}`);
  for (const m of methods) out.push(`\n${m}`);
  const gomod = `// ${headerText(model)}
module ${modulePath}

go ${CENTRIFUGE_GO.go}

require ${CENTRIFUGE_GO.module} ${CENTRIFUGE_GO.version}
`;
  return { 'client.go': out.join(''), 'go.mod': gomod };
}
