/**
 * `generate` without toolchains: the output is deterministic and free of paths and dates,
 * routes without schemas stay (typed as any, with a comment), prefix routes take the suffix,
 * documented application errors become error types, and bad `x-errors` are reported.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { generateClients } from '../../src/codegen/generate.js';
import { CodegenError } from '../../src/codegen/model.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/codegen/routes.yaml');
const { config, file } = loadConfig(FIXTURE);
const all = ['ts', 'python', 'go'] as const;

function collect(): { lines: string[]; out: { log: (l: string) => void; error: (l: string) => void } } {
  const lines: string[] = [];
  return { lines, out: { log: (l) => lines.push(l), error: (l) => lines.push(l) } };
}

describe('generate', () => {
  it('is deterministic and names the config by its base name only', async () => {
    const first = await generateClients(config, { languages: all, configFile: file });
    const second = await generateClients(config, { languages: all, configFile: file });
    assert.deepEqual(first, second);
    assert.deepEqual(Object.keys(first).sort(), [
      'go/client.go',
      'go/go.mod',
      'python/pyproject.toml',
      'python/rpc_client/__init__.py',
      'python/rpc_client/py.typed',
      'typescript/index.ts',
      'typescript/package.json',
    ]);
    for (const [path, text] of Object.entries(first)) {
      assert.ok(!text.includes(join(import.meta.dirname, '..')), `${path} holds an absolute path`);
      assert.doesNotMatch(text, /\b20\d\d-\d\d-\d\d\b/, `${path} holds a date`);
    }
    assert.match(first['typescript/index.ts']!, /from routes\.yaml\./);
  });

  it('keeps routes without schemas, typed as any with a comment, and gives prefix routes a name argument', async () => {
    const files = await generateClients(config, { languages: all, configFile: file });
    const ts = files['typescript/index.ts']!;
    const py = files['python/rpc_client/__init__.py']!;
    const go = files['go/client.go']!;
    assert.match(ts, /tasks\.echo has no params_schema in rpc\.routes: the params is not typed\. \*\/\nexport type TasksEchoParams = unknown;/);
    assert.match(ts, /async tasksEcho\(params: TasksEchoParams = null\): Promise<TasksEchoResult>/);
    assert.match(py, /# tasks\.echo has no result_schema in rpc\.routes: the result is not typed\.\nTasksEchoResult: TypeAlias = Any/);
    assert.match(go, /\/\/ TasksEchoResult: tasks\.echo has no result_schema in rpc\.routes, so the result is raw JSON\.\ntype TasksEchoResult = json\.RawMessage/);

    assert.match(ts, /async reports\(name: string, params: ReportsParams\): Promise<ReportsResult> \{\n {4}return \(await this\.call\("reports\." \+ name, params\)\)/);
    assert.match(py, /async def reports\(self, name: str, params: ReportsParams\) -> ReportsResult:/);
    assert.match(go, /func \(c \*Client\) Reports\(ctx context\.Context, name string, params ReportsParams\) \(ReportsResult, error\)/);
  });

  it('turns descriptions into docs and documented application errors into error types', async () => {
    const files = await generateClients(config, { languages: all, configFile: file });
    assert.match(files['typescript/index.ts']!, /export class TitleTakenError extends ApplicationError \{\n {2}static readonly code = 1001;/);
    assert.match(files['typescript/index.ts']!, /export type TasksCreateError = ProxyError \| TitleTakenError \| ApplicationError \| TransportError;/);
    assert.match(files['typescript/index.ts']!, /The task's title, shown in lists\./);
    assert.match(files['python/rpc_client/__init__.py']!, /class TitleTakenError\(ApplicationError\):/);
    assert.match(files['python/rpc_client/__init__.py']!, /class TasksCreateParams\(TypedDict\):\n {4}"""Creates a task in a project\."""/);
    assert.match(files['go/client.go']!, /ErrTitleTaken = &RPCError\{Code: 1001\}/);
    assert.match(files['go/client.go']!, /\t\/\/ The task's title, shown in lists\.\n\tTitle +string/);
  });

  it('takes the proxy error codes from codes:', async () => {
    const custom = structuredClone(config);
    (custom.codes as { bad_request: { code: number } }).bad_request.code = 422;
    const files = await generateClients(custom, { languages: all, configFile: file });
    assert.match(files['typescript/index.ts']!, /class BadRequestError extends RpcError \{\n {2}static readonly code = 422;/);
    assert.match(files['go/client.go']!, /ErrBadRequest = &RPCError\{Code: 422\}/);
  });

  it('reports every bad x-errors entry', async () => {
    const bad: Config = structuredClone(config);
    bad.rpc.routes[1]!.result_schema = { 'x-errors': [{ code: 404, name: 'gone' }, { code: 99, name: 'low' }, { code: 1001, name: 'title_taken' }, { code: 1002, name: 'Bad-Name' }] };
    await assert.rejects(generateClients(bad, { languages: ['ts'], configFile: file }), (err: unknown) => {
      assert.ok(err instanceof CodegenError);
      assert.deepEqual(err.problems, [
        'tasks.echo: x-errors gone uses code 404, which the proxy answers as method_not_found',
        'tasks.echo: x-errors code 99 must be an integer in 400-1999',
        'tasks.echo: x-errors name "Bad-Name" must be snake_case',
      ]);
      return true;
    });
  });

  it('--lang schema: one JSON Schema bundle with every route, valid for a draft 2020-12 validator', async () => {
    const files = await generateClients(config, { languages: ['schema'], configFile: file });
    assert.deepEqual(Object.keys(files), ['schema/rpc-methods.schema.json']);
    const text = files['schema/rpc-methods.schema.json'] as string;
    assert.equal(text, (await generateClients(config, { languages: ['schema'], configFile: file }))['schema/rpc-methods.schema.json']);
    assert.ok(!text.includes(import.meta.dirname), 'no absolute paths');
    const bundle = JSON.parse(text) as { $defs: Record<string, { properties: { params: unknown } }>; 'x-proxy-errors': Array<{ code: number }> };
    assert.deepEqual(Object.keys(bundle.$defs), config.rpc.routes.map((r) => r.method));
    assert.ok(bundle['x-proxy-errors'].some((e) => e.code === 404));
    // A validator accepts the document, and a method's entry checks a call as the proxy would.
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(bundle, 'bundle');
    const route = config.rpc.routes.find((r) => r.params_schema && !r.method.endsWith('*'));
    assert.ok(route, 'the fixture has an exact route with params_schema');
    const validate = ajv.getSchema(`bundle#/$defs/${encodeURIComponent(route.method)}`);
    assert.ok(validate);
    assert.equal(validate({ method: route.method, params: {} }), false, 'params missing their required properties fail');
    assert.equal(validate({ method: 'other.method' }), false, 'another method fails');
  });

  it('the CLI writes the packages, and refuses an unknown language', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-codegen-'));
    const ok = collect();
    assert.equal(await runCli(['generate', '--config', FIXTURE, '--lang', 'ts', '--lang', 'go', '--out', dir], ok.out), 0, ok.lines.join('\n'));
    assert.ok(existsSync(join(dir, 'typescript/index.ts')) && existsSync(join(dir, 'go/client.go')));
    assert.ok(!existsSync(join(dir, 'python')));
    assert.match(ok.lines.join('\n'), /wrote 4 files for ts, go .*: 3 routes \(1 without a params or result schema, typed as any\)/);
    const bad = collect();
    assert.equal(await runCli(['generate', '--config', FIXTURE, '--lang', 'rust', '--out', dir], bad.out), 2);
    assert.match(bad.lines.join('\n'), /unknown language: rust/);
  });
});
