/**
 * The TypeScript client: one class over the `centrifuge` SDK's `rpc()` (a peer dependency) with a
 * typed method per route, types from json-schema-to-typescript, and an error class per code.
 */
import { compile } from 'json-schema-to-typescript';
import { camel, describe, headerText, pascal, type ApiModel, type Method, type Schema } from './model.js';

const comment = (lines: readonly string[], indent = ''): string => {
  const body = lines.flatMap((l) => l.split('\n')).map((l) => l.replace(/\*\//g, '*\\/'));
  return body.length === 1 ? `${indent}/** ${body[0]} */\n` : `${indent}/**\n${body.map((l) => `${indent} *${l ? ` ${l}` : ''}`).join('\n')}\n${indent} */\n`;
};

/** The schema without our own extension keys. */
function clean(schema: Schema): Schema {
  const { ['x-errors']: _errors, ...rest } = schema;
  return rest;
}

async function declare(schema: Schema | undefined, name: string, what: string, route: string): Promise<string> {
  if (!schema) return `/** ${route} has no ${what}_schema in rpc.routes: the ${what} is not typed. */\nexport type ${name} = unknown;\n`;
  return compile(clean(schema), name, { bannerComment: '', additionalProperties: false, strictIndexSignatures: true });
}

const errorClass = (name: string): string => `${name}Error`;
/** TasksCreate → TASKS_CREATE_ERRORS. */
const errorsTable = (base: string): string => `${base.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_ERRORS`;

function methodCode(m: Method, base: string): string {
  const docs: string[] = [];
  const what = describe(m.params) ?? describe(m.result);
  docs.push(m.prefix !== undefined ? `Calls \`${m.prefix}<name>\` (route \`${m.route}\`).` : `Calls \`${m.route}\`.`);
  if (what) docs.push('', what);
  if (m.params && describe(m.result) && describe(m.params)) docs.push('', `Result: ${describe(m.result)}`);
  if (m.errors.length > 0) {
    docs.push('', 'Documented errors:');
    for (const e of m.errors) docs.push(`- ${errorClass(pascal(e.name.split('_')))} (${e.code})${e.description ? `: ${e.description}` : ''}`);
  }
  docs.push(`@throws {${base}Error} the proxy's errors, this route's documented errors, any other application error, or a transport error`);
  const name = camel(m.words);
  const table = m.errors.length > 0 ? `, ${errorsTable(base)}` : '';
  const args = m.prefix !== undefined ? `name: string, params: ${base}Params` : `params: ${base}Params`;
  const target = m.prefix !== undefined ? `${JSON.stringify(m.prefix)} + name` : JSON.stringify(m.route);
  return `${comment(docs, '  ')}  async ${name}(${args}${m.params ? '' : ' = null'}): Promise<${base}Result> {\n    return (await this.call(${target}, params${table})) as ${base}Result;\n  }\n`;
}

export async function typescriptFiles(model: ApiModel, packageName: string): Promise<Record<string, string>> {
  const out: string[] = [`// ${headerText(model)}\n`, "import type { Centrifuge } from 'centrifuge';\n"];
  out.push(`/** What the client needs of a Centrifuge instance: the SDK's client, or a test double. */
export type RpcTransport = Pick<Centrifuge, 'rpc'>;

/** Every failed call rejects with an RpcError; its subclass says which kind. */
export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly temporary: boolean,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An error from Centrifugo or the SDK itself (code below 400), e.g. a timeout or a disconnect. */
export class TransportError extends RpcError {}

/** An application error from the upstream (code 400-1999) that its route does not document. */
export class ApplicationError extends RpcError {}
`);
  for (const e of model.proxyErrors) {
    out.push(`${comment([`${e.code} \`${e.message}\`: ${e.doc}.`])}export class ${errorClass(e.name)} extends RpcError {\n  static readonly code = ${e.code};\n}\n`);
  }
  for (const e of model.appErrors) {
    out.push(`${comment([`${e.code} \`${e.name}\`, documented by the upstream${e.description ? `: ${e.description}` : '.'}`])}export class ${errorClass(pascal(e.name.split('_')))} extends ApplicationError {\n  static readonly code = ${e.code};\n}\n`);
  }
  const proxyUnion = model.proxyErrors.map((e) => errorClass(e.name)).join(' | ');
  out.push(`/** The proxy's own errors, which any call may reject with. */\nexport type ProxyError = ${proxyUnion};\n`);
  out.push(`type ErrorClass = new (method: string, code: number, message: string, temporary: boolean) => RpcError;
const PROXY_ERRORS: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
${model.proxyErrors.map((e) => `  [${e.code}, ${errorClass(e.name)}],`).join('\n')}
]);
const NO_ERRORS: ReadonlyMap<number, ErrorClass> = new Map();
`);
  const methods: string[] = [];
  for (const m of model.methods) {
    const base = pascal(m.words);
    out.push(await declare(m.params, `${base}Params`, 'params', m.route));
    out.push(await declare(m.result, `${base}Result`, 'result', m.route));
    const documented = m.errors.map((e) => errorClass(pascal(e.name.split('_'))));
    out.push(`/** What ${m.route} rejects with. */\nexport type ${base}Error = ProxyError | ${[...documented, 'ApplicationError', 'TransportError'].join(' | ')};\n`);
    if (m.errors.length > 0) {
      const table = errorsTable(base);
      out.push(`const ${table}: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([\n${m.errors.map((e) => `  [${e.code}, ${errorClass(pascal(e.name.split('_')))}],`).join('\n')}\n]);\n`);
    }
    methods.push(methodCode(m, base));
  }
  out.push(`/**
 * Typed RPC calls through Centrifugo: \`new RpcClient(centrifuge).tasksCreate({...})\`. Calls wait
 * for the connection like the SDK's own \`rpc()\`; a failure rejects with an RpcError subclass.
 */
export class RpcClient {
  constructor(private readonly centrifuge: RpcTransport) {}

${methods.join('\n')}
  private async call(method: string, params: unknown, documented: ReadonlyMap<number, ErrorClass> = NO_ERRORS): Promise<unknown> {
    try {
      return (await this.centrifuge.rpc(method, params)).data as unknown;
    } catch (err) {
      const { code, message, temporary } = (err ?? {}) as { code?: unknown; message?: unknown; temporary?: unknown };
      const n = typeof code === 'number' ? code : 0;
      const Kind = PROXY_ERRORS.get(n) ?? documented.get(n) ?? (n >= 400 && n <= 1999 ? ApplicationError : TransportError);
      throw new Kind(method, n, typeof message === 'string' ? message : String(err), temporary === true);
    }
  }
}
`);
  const pkg = {
    name: packageName,
    version: '0.0.0',
    private: true,
    description: `Typed RPC client generated from ${model.source}`,
    type: 'module',
    exports: { '.': './index.ts' },
    peerDependencies: { centrifuge: '>=5.0.0' },
  };
  return { 'index.ts': out.join('\n'), 'package.json': `${JSON.stringify(pkg, null, 2)}\n` };
}
