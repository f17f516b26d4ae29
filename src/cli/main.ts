/**
 * centrifugo-policy-proxy CLI: serve, check, test, explain. Every command takes
 * --config FILE (else $CONFIG_FILE, else the bundled config/default.yaml).
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../app.js';
import { chooseConfigFile, ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { buildEngine } from '../policy/policy-store.js';
import { PolicySourceError } from '../policy/policy-source.js';
import { describeFailure, loadTestCases, runTestCases } from '../policy/test-cases.js';
import type { PolicyEngine } from '../policy/engine.js';

const USAGE = `usage: centrifugo-policy-proxy <command> [--config FILE]

commands:
  serve                      run the service
  check                      validate config, model, policy and policy tests
  test                       run the policy test cases
  explain --user U [--roles a,b] --action ACT --object OBJ [--json]
                             show the decision and the rules behind it`;

type Out = { log: (line: string) => void; error: (line: string) => void };
const stdio: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

function loadOrReport(file: string | undefined, out: Out): LoadedConfig | undefined {
  try {
    return loadConfig(chooseConfigFile(file));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) out.error(problem);
    return undefined;
  }
}

async function engineOrReport(loaded: LoadedConfig, out: Out): Promise<PolicyEngine | undefined> {
  try {
    return await buildEngine(loaded.config.policy);
  } catch (err) {
    if (!(err instanceof PolicySourceError)) throw err;
    out.error(err.describe());
    return undefined;
  }
}

async function check(file: string | undefined, out: Out): Promise<number> {
  const loaded = loadOrReport(file, out);
  if (!loaded) return 1;
  const engine = await engineOrReport(loaded, out);
  const { cases, problems } = loadTestCases(loaded.config.policy.tests);
  for (const problem of problems) out.error(problem);
  if (!engine) return 1;
  const failures = runTestCases(engine, cases).filter((o) => !o.passed);
  for (const failure of failures) out.error(describeFailure(failure));
  if (problems.length > 0 || failures.length > 0) return 1;
  out.log(`ok: ${loaded.file}: policy ${engine.version}, ${engine.source.rules.length} rules, ${cases.length} test cases pass`);
  return 0;
}

async function test(file: string | undefined, out: Out): Promise<number> {
  const loaded = loadOrReport(file, out);
  if (!loaded) return 1;
  const engine = await engineOrReport(loaded, out);
  if (!engine) return 1;
  const { cases, problems } = loadTestCases(loaded.config.policy.tests);
  for (const problem of problems) out.error(problem);
  const outcomes = runTestCases(engine, cases);
  const failed = outcomes.filter((o) => !o.passed);
  for (const failure of failed) out.log(describeFailure(failure));
  out.log(`${outcomes.length - failed.length} passed, ${failed.length + problems.length} failed`);
  return failed.length > 0 || problems.length > 0 ? 1 : 0;
}

async function explain(values: Record<string, string | boolean | undefined>, out: Out): Promise<number> {
  const { user, action, object } = values;
  if (typeof user !== 'string' || typeof action !== 'string' || typeof object !== 'string') {
    out.error('explain needs --user, --action and --object (use --user "" for anonymous, --object "" for connect)');
    return 2;
  }
  const loaded = loadOrReport(values.config as string | undefined, out);
  if (!loaded) return 1;
  const engine = await engineOrReport(loaded, out);
  if (!engine) return 1;
  const roles = typeof values.roles === 'string' && values.roles !== '' ? values.roles.split(',').map((r) => r.trim()) : [];
  const result = engine.explain({ user, roles, action, object });
  const rule = (r: (typeof result.deciding)[number]) => ({ file: r.location.file, line: r.location.line, rule: [r.ptype, ...r.values].join(', ') });
  if (values.json) {
    out.log(
      JSON.stringify({
        decision: result.allowed ? 'allow' : 'deny',
        policy_version: result.version,
        deciding: result.deciding.map(rule),
        matched: result.matched.map(rule),
      }),
    );
    return 0;
  }
  out.log(`decision: ${result.allowed ? 'allow' : 'deny'}`);
  out.log(`policy version: ${result.version}`);
  if (result.deciding.length === 0) out.log('decided by: no rule matched (default deny)');
  for (const r of result.deciding.map(rule)) out.log(`decided by: ${r.file}:${r.line}: ${r.rule}`);
  for (const r of result.matched.filter((m) => !result.deciding.includes(m)).map(rule)) out.log(`also matched: ${r.file}:${r.line}: ${r.rule}`);
  return 0;
}

async function serve(file: string | undefined, out: Out): Promise<number> {
  const loaded = loadOrReport(file, out);
  if (!loaded) return 1;
  const app = buildApp(loaded.config);
  try {
    await app.start();
  } catch (err) {
    if (err instanceof PolicySourceError) out.error(err.describe());
    else out.error(`cannot start: ${(err as Error).message}`);
    await app.stop();
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      app.log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await app.stop();
  app.log.info('stopped');
  return 0;
}

export async function runCli(argv: string[], out: Out = stdio): Promise<number> {
  const [command, ...rest] = argv;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' },
        user: { type: 'string' },
        roles: { type: 'string' },
        action: { type: 'string' },
        object: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    out.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const file = values.config as string | undefined;
  switch (command) {
    case 'serve':
      return serve(file, out);
    case 'check':
      return check(file, out);
    case 'test':
      return test(file, out);
    case 'explain':
      return explain(values, out);
    default:
      out.error(USAGE);
      return 2;
  }
}
