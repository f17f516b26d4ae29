/**
 * The Python client: an async class over centrifuge-python's `Client.rpc(method, data)`, a
 * TypedDict per object schema (the decoded JSON is the typed value: no copying, and mypy checks
 * every key), an exception class per error code.
 */
import { describe, headerText, pascal, snake, type ApiModel, type Schema } from './model.js';
import { TypeCollector, type ObjectDecl, type TypeNode } from './schema-ir.js';

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);
const identifier = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);
const str = (s: string): string => JSON.stringify(s);

function docstring(lines: readonly string[], indent: string): string {
  const text = lines.join('\n').replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
  const body = text.split('\n');
  return body.length === 1 ? `${indent}"""${body[0]}"""\n` : `${indent}"""${body[0]}\n${body.slice(1).map((l) => (l ? indent + l : '')).join('\n')}\n${indent}"""\n`;
}

/** The annotation for a type, and a note when it was loosened to Any. */
function annotation(t: TypeNode): { text: string; notes: string[] } {
  switch (t.kind) {
    case 'any':
      return { text: 'Any', notes: t.note ? [t.note] : [] };
    case 'string':
      return { text: 'str', notes: [] };
    case 'number':
      return { text: 'float', notes: [] };
    case 'integer':
      return { text: 'int', notes: [] };
    case 'boolean':
      return { text: 'bool', notes: [] };
    case 'enum':
      return { text: `Literal[${t.values.map((v) => (typeof v === 'string' ? str(v) : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v))).join(', ')}]`, notes: [] };
    case 'array': {
      const inner = annotation(t.items);
      return { text: `list[${inner.text}]`, notes: inner.notes };
    }
    case 'map': {
      const inner = annotation(t.values);
      return { text: `dict[str, ${inner.text}]`, notes: inner.notes };
    }
    case 'object':
      return { text: t.name, notes: [] };
    case 'nullable': {
      const inner = annotation(t.inner);
      return { text: `${inner.text} | None`, notes: inner.notes };
    }
  }
}

function typedDict(decl: ObjectDecl): string {
  const lines: string[] = [];
  const fieldType = (f: ObjectDecl['fields'][number]) => {
    const a = annotation(f.type);
    return { text: f.required ? a.text : `NotRequired[${a.text}]`, notes: a.notes };
  };
  if (decl.fields.every((f) => identifier(f.json))) {
    lines.push(`class ${decl.name}(TypedDict):\n`);
    if (decl.description) lines.push(docstring([decl.description], '    '), '\n');
    for (const f of decl.fields) {
      const { text, notes } = fieldType(f);
      if (f.description) lines.push(`    #: ${f.description.replace(/\n/g, ' ')}\n`);
      lines.push(`    ${f.json}: ${text}${notes.length > 0 ? `  # Any: ${notes.join('; ')}` : ''}\n`);
    }
    return lines.join('');
  }
  // Keys that are not Python names (e.g. "user-id", "class") need the functional form.
  if (decl.description) lines.push(`# ${decl.description.replace(/\n/g, '\n# ')}\n`);
  lines.push(`${decl.name} = TypedDict(\n    ${str(decl.name)},\n    {\n`);
  for (const f of decl.fields) {
    const { text, notes } = fieldType(f);
    if (f.description) lines.push(`        # ${f.description.replace(/\n/g, ' ')}\n`);
    lines.push(`        ${str(f.json)}: ${text},${notes.length > 0 ? `  # Any: ${notes.join('; ')}` : ''}\n`);
  }
  lines.push('    },\n)\n');
  return lines.join('');
}

const errorClass = (name: string): string => `${name}Error`;

export function pythonFiles(model: ApiModel, packageName: string): Record<string, string> {
  const exceptions = new Set(['RpcError', 'TransportError', 'ApplicationError', 'RpcClient', ...model.proxyErrors.map((e) => errorClass(e.name)), ...model.appErrors.map((e) => errorClass(pascal(e.name.split('_'))))]);
  const types = new TypeCollector(exceptions);
  const aliases: string[] = [];
  const methods: string[] = [];
  for (const m of model.methods) {
    const base = pascal(m.words);
    const sigs: Record<'params' | 'result', string> = { params: '', result: '' };
    for (const what of ['params', 'result'] as const) {
      const schema: Schema | undefined = m[what];
      const name = `${base}${what === 'params' ? 'Params' : 'Result'}`;
      if (!schema) {
        aliases.push(`# ${m.route} has no ${what}_schema in rpc.routes: the ${what} is not typed.\n${name}: TypeAlias = Any\n`);
        sigs[what] = name;
        continue;
      }
      const t = types.convert(schema, name);
      if (t.kind === 'object' && t.name === name) {
        sigs[what] = name;
      } else {
        const { text, notes } = annotation(t);
        aliases.push(`${notes.length > 0 ? `# Any: ${notes.join('; ')}\n` : ''}${name}: TypeAlias = ${text}\n`);
        sigs[what] = name;
      }
    }
    let fn = snake(m.words);
    if (KEYWORDS.has(fn)) fn += '_';
    const docs: string[] = [m.prefix !== undefined ? `Call \`${m.prefix}<name>\` (route \`${m.route}\`).` : `Call \`${m.route}\`.`];
    const what = describe(m.params) ?? describe(m.result);
    if (what) docs.push('', what);
    if (m.errors.length > 0) {
      docs.push('', 'Documented errors:');
      for (const e of m.errors) docs.push(`    ${errorClass(pascal(e.name.split('_')))} (${e.code})${e.description ? `: ${e.description}` : ''}`);
    }
    docs.push('', "Raises RpcError: the proxy's errors, this route's documented errors, ApplicationError, TransportError.");
    const args = m.prefix !== undefined ? `self, name: str, params: ${sigs.params}${m.params ? '' : ' = None'}` : `self, params: ${sigs.params}${m.params ? '' : ' = None'}`;
    const target = m.prefix !== undefined ? `${str(m.prefix)} + name` : str(m.route);
    const table = m.errors.length > 0 ? `{${m.errors.map((e) => `${e.code}: ${errorClass(pascal(e.name.split('_')))}`).join(', ')}}` : '_NO_ERRORS';
    methods.push(`    async def ${fn}(${args}) -> ${sigs.result}:\n${docstring(docs, '        ')}        return cast(${sigs.result}, await self._call(${target}, params, ${table}))\n`);
  }

  const out: string[] = [];
  out.push(`# ${headerText(model)}\n"""Typed RPC client for Centrifugo, over centrifuge-python.\n\n    client = centrifuge.Client(url, token=token)\n    await client.connect()\n    rpc = RpcClient(client)\n    result = await rpc.tasks_create({"title": "x"})\n"""\n\nfrom __future__ import annotations\n\n`);
  out.push('from typing import Any, Literal, NotRequired, Protocol, TypeAlias, TypedDict, cast\n\n');
  out.push('# centrifuge-python ships no type information: its Client and ReplyError are Any to mypy.\n');
  out.push('from centrifuge import ReplyError  # type: ignore[import-untyped, unused-ignore]\n\n');
  out.push(`
class RpcError(Exception):
    """Every failed call raises an RpcError; its subclass says which kind."""

    def __init__(self, method: str, code: int, message: str, temporary: bool) -> None:
        super().__init__(f"{method}: {code} {message}")
        self.method = method
        self.code = code
        self.message = message
        self.temporary = temporary


class TransportError(RpcError):
    """An error from Centrifugo or the SDK itself (code below 400, a timeout, a disconnect)."""


class ApplicationError(RpcError):
    """An application error from the upstream (code 400-1999) that its route does not document."""
`);
  for (const e of model.proxyErrors) {
    out.push(`\n\nclass ${errorClass(e.name)}(RpcError):\n${docstring([`${e.code} "${e.message}": ${e.doc}.`], '    ')}\n    CODE = ${e.code}\n`);
  }
  for (const e of model.appErrors) {
    out.push(`\n\nclass ${errorClass(pascal(e.name.split('_')))}(ApplicationError):\n${docstring([`${e.code} "${e.name}", documented by the upstream${e.description ? `: ${e.description}` : '.'}`], '    ')}\n    CODE = ${e.code}\n`);
  }
  out.push(`\n\n_PROXY_ERRORS: dict[int, type[RpcError]] = {${model.proxyErrors.map((e) => `${e.code}: ${errorClass(e.name)}`).join(', ')}}\n_NO_ERRORS: dict[int, type[RpcError]] = {}\n`);
  for (const decl of types.decls) out.push(`\n\n${typedDict(decl)}`);
  out.push(`\n\n${aliases.join('\n')}`);
  out.push(`

class RpcTransport(Protocol):
    """What RpcClient needs: centrifuge.Client, or a test double."""

    async def rpc(self, method: str, data: Any) -> Any: ...


class RpcClient:
    """Typed RPC calls through Centrifugo; each method waits for the connection like Client.rpc."""

    def __init__(self, client: RpcTransport) -> None:
        self._client = client

${methods.join('\n')}
    async def _call(self, method: str, params: Any, documented: dict[int, type[RpcError]]) -> Any:
        try:
            reply = await self._client.rpc(method, params)
        except ReplyError as err:
            code = int(err.code)
            kind = _PROXY_ERRORS.get(code) or documented.get(code)
            if kind is None:
                kind = ApplicationError if 400 <= code <= 1999 else TransportError
            raise kind(method, code, str(err.message), bool(err.temporary)) from err
        except Exception as err:  # timeouts, disconnects: the SDK's own exceptions
            raise TransportError(method, 0, repr(err), True) from err
        return reply.data
`);
  const module = packageName.replace(/[^A-Za-z0-9_]/g, '_');
  const pyproject = `# ${headerText(model)}
[project]
name = ${str(packageName)}
version = "0.0.0"
description = "Typed RPC client generated from ${model.source}"
requires-python = ">=3.11"
dependencies = ["centrifuge-python>=0.4"]

[tool.setuptools]
packages = [${str(module)}]

[tool.setuptools.package-data]
${module} = ["py.typed"]
`;
  return { [`${module}/__init__.py`]: out.join(''), [`${module}/py.typed`]: '', 'pyproject.toml': pyproject };
}
