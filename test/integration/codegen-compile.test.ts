/**
 * The generated clients compile in their own languages: TypeScript under `tsc --strict` (the
 * project's TypeScript), Python under `mypy --strict`, Go under `go vet` and gofmt. A caller
 * fixture per language compiles against them, and stops compiling once a route's params field
 * is renamed: a route change surfaces as a compile error in callers, not at run time.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { generateInto, goSuiteOptions, goVet, mypyStrict, pythonSuiteOptions, ROOT, run, tscStrict, writeGenerated } from '../helpers/codegen.js';

const FIXTURES = join(ROOT, 'test/fixtures/codegen');
const config = loadConfig(join(FIXTURES, 'routes.yaml')).config;

/** The same routes with tasks.create's `title` renamed to `name`. */
function renamed(): Config {
  const copy = structuredClone(config);
  const schema = copy.rpc.routes[0]!.params_schema as { required: string[]; properties: Record<string, unknown> };
  const { title, ...rest } = schema.properties;
  schema.properties = { name: title, ...rest };
  schema.required = ['name'];
  return copy;
}

describe('generated TypeScript client', () => {
  it('compiles under tsc --strict with a caller, and the caller breaks when a field is renamed', async () => {
    const dir = await generateInto(config, ['ts']);
    const ts = join(dir, 'typescript');
    copyFileSync(join(FIXTURES, 'caller.ts.txt'), join(ts, 'caller.ts'));
    const ok = await tscStrict(ts, ['index.ts', 'caller.ts']);
    assert.equal(ok.code, 0, ok.output);

    await writeGenerated(dir, renamed(), ['ts']);
    const broken = await tscStrict(ts, ['index.ts', 'caller.ts']);
    assert.notEqual(broken.code, 0, 'the caller still compiled after the route changed');
    assert.match(broken.output, /caller\.ts.*'title'/s);
  });
});

describe('generated Python client', pythonSuiteOptions(), () => {
  it('passes mypy --strict with a caller, and the caller breaks when a field is renamed', async () => {
    const dir = await generateInto(config, ['python']);
    const py = join(dir, 'python');
    copyFileSync(join(FIXTURES, 'caller.py'), join(py, 'caller.py'));
    const ok = await mypyStrict(py, ['rpc_client', 'caller.py']);
    assert.equal(ok.code, 0, ok.output);

    await writeGenerated(dir, renamed(), ['python']);
    const broken = await mypyStrict(py, ['rpc_client', 'caller.py']);
    assert.notEqual(broken.code, 0, 'the caller still type-checked after the route changed');
    assert.match(broken.output, /caller\.py:\d+: error: .*"title"/);
  });
});

describe('generated Go client', goSuiteOptions(), () => {
  it('is gofmt-clean and passes go vet with a caller, and the caller breaks when a field is renamed', async () => {
    const dir = await generateInto(config, ['go']);
    const go = join(dir, 'go');
    assert.equal((await run('gofmt', ['-l', '.'], { cwd: go })).output.trim(), '', 'gofmt would change the generated code');
    mkdirSync(join(go, 'caller'));
    copyFileSync(join(FIXTURES, 'caller.go'), join(go, 'caller/caller.go'));
    const ok = await goVet(go);
    assert.equal(ok.code, 0, ok.output);
    assert.match(readFileSync(join(go, 'client.go'), 'utf8'), /Anything json\.RawMessage\s+`json:"anything,omitempty"` \/\/ oneOf is not supported/);

    await writeGenerated(dir, renamed(), ['go']);
    const broken = await goVet(go);
    assert.notEqual(broken.code, 0, 'the caller still built after the route changed');
    assert.match(broken.output, /caller\.go:\d+:\d+: unknown field Title/);
  });
});
