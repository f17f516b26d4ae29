/**
 * The generated clients end to end: TypeScript (in this process, over the `centrifuge` SDK),
 * Python (centrifuge-python) and Go (centrifuge-go) programs call routes through the real
 * Centrifugo and the service to the local upstream. The result arrives as the typed value; a
 * params schema failure (400) and a route the service does not have (404, a client generated
 * from other routes) arrive as the generated error types. A language whose toolchain is
 * missing is skipped visibly (a failure under CI=true).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { generateInto, goSuiteOptions, pythonSuiteOptions, ROOT, run, VENV_PYTHON } from '../helpers/codegen.js';
import { e2eSuiteOptions } from './helpers/centrifugo.js';
import { makeClient, type RecordedClient } from './helpers/clients.js';
import { startStack, type Stack } from './helpers/stack.js';

const FIXTURES = join(ROOT, 'test/fixtures/codegen');

/** The JSON lines a caller program printed, by call name. */
function lines(output: string): Record<string, Record<string, unknown>> {
  const byCall: Record<string, Record<string, unknown>> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    byCall[String(parsed.call)] = parsed;
  }
  return byCall;
}

type ErrorType = abstract new (...args: never[]) => Error & { code: number; method: string };
/** The part of the generated module this test uses (its own types are checked by tsc in codegen-compile). */
interface GeneratedTs {
  RpcClient: new (centrifuge: RecordedClient['client']) => {
    tasksCreate(params: { title: string }): Promise<{ user: string; params: { title: string } }>;
    tasks(name: string, params?: unknown): Promise<unknown>;
    tasksRetired(params?: unknown): Promise<unknown>;
  };
  BadRequestError: ErrorType;
  MethodNotFoundError: ErrorType;
}

describe('e2e generated RPC clients through the real Centrifugo', e2eSuiteOptions(), () => {
  let stack: Stack;
  let dir: string;
  let client: RecordedClient | undefined;

  before(async () => {
    const config = loadConfig(join(FIXTURES, 'e2e-routes.yaml')).config;
    [stack, dir] = await Promise.all([startStack({ transport: 'http' }), generateInto(config, ['ts', 'python', 'go'], 'e2e-routes.yaml')]);
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it('TypeScript: typed result, BadRequestError for a schema failure, MethodNotFoundError for a route the service lacks', async () => {
    const generated = (await import(pathToFileURL(join(dir, 'typescript/index.ts')).href)) as GeneratedTs;
    client = makeClient(stack.centrifugo.wsUrl, { data: { token: stack.token('81', ['role:member']) } });
    client.client.connect();
    const rpc = new generated.RpcClient(client.client);

    const created = await rpc.tasksCreate({ title: 'from typescript' });
    assert.deepEqual(created, { user: '81', params: { title: 'from typescript' } });
    const echoed = await rpc.tasks('echo', { n: 1 });
    assert.deepEqual(echoed, { user: '81', params: { n: 1 } }, 'the prefix method calls tasks.echo');

    const bad = await rpc.tasksCreate({ title: '' }).then(() => undefined, (err: unknown) => err);
    assert.ok(bad instanceof generated.BadRequestError, `expected BadRequestError, got ${String(bad)}`);
    assert.equal(bad.code, 400);
    assert.match(bad.message, /^bad request: \/title /);
    const missing = await rpc.tasksRetired().then(() => undefined, (err: unknown) => err);
    assert.ok(missing instanceof generated.MethodNotFoundError, `expected MethodNotFoundError, got ${String(missing)}`);
    assert.equal(missing.method, 'tasks.retired');
  });

  describe('Python', pythonSuiteOptions(), () => {
    it('a program over the generated client: typed result, BadRequestError, MethodNotFoundError', async () => {
      const py = join(dir, 'python');
      copyFileSync(join(FIXTURES, 'e2e_caller.py'), join(py, 'e2e_caller.py'));
      const ran = await run(VENV_PYTHON, ['e2e_caller.py'], {
        cwd: py,
        env: { CENTRIFUGO_WS_URL: stack.centrifugo.wsUrl, CENTRIFUGO_TOKEN: stack.token('82', ['role:member']), PYTHONPATH: py },
        timeoutMs: 30_000,
      });
      assert.equal(ran.code, 0, ran.output);
      const out = lines(ran.output);
      assert.deepEqual(out.create, { call: 'create', result: { user: '82', params: { title: 'from python' } }, user: '82' });
      assert.deepEqual(out.bad, { call: 'bad', error: 'BadRequestError', code: 400 });
      assert.deepEqual(out.retired, { call: 'retired', error: 'MethodNotFoundError', code: 404 });
      assert.deepEqual(out.prefix, { call: 'prefix', result: { user: '82', params: { n: 1 } } });
    });
  });

  describe('Go', goSuiteOptions(), () => {
    it('a program over the generated client: typed result, ErrBadRequest, ErrMethodNotFound', async () => {
      const go = join(dir, 'go');
      mkdirSync(join(go, 'cmd/e2ecaller'), { recursive: true });
      copyFileSync(join(FIXTURES, 'e2e_caller.go'), join(go, 'cmd/e2ecaller/main.go'));
      const tidy = await run('go', ['mod', 'tidy'], { cwd: go });
      assert.equal(tidy.code, 0, tidy.output);
      const ran = await run('go', ['run', './cmd/e2ecaller'], {
        cwd: go,
        env: { CENTRIFUGO_WS_URL: stack.centrifugo.wsUrl, CENTRIFUGO_TOKEN: stack.token('83', ['role:member']) },
        timeoutMs: 90_000,
      });
      assert.equal(ran.code, 0, ran.output);
      const out = lines(ran.output);
      assert.deepEqual(out.create, { call: 'create', result: { user: '83', params: { title: 'from go' } }, user: '83' });
      assert.deepEqual(out.bad, { call: 'bad', error: 'BadRequest', code: 400 });
      assert.deepEqual(out.retired, { call: 'retired', error: 'MethodNotFound', code: 404 });
      assert.deepEqual(out.prefix, { call: 'prefix', result: { user: '83', params: { n: 1 } } });
    });
  });
});
