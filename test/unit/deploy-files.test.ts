/**
 * The deployment files (Dockerfile, docker-compose.yml, deploy/kubernetes/, the Centrifugo
 * configs) checked against the service itself, since no Docker engine or cluster runs here:
 * ports, health paths, served proxy paths, environment names the configs read, files copied.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/main.js';
import { parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { EVENT_ROUTES } from '../../src/handlers/registry.js';
import { proxyEnv, PROXY_TRANSPORTS } from '../e2e/helpers/centrifugo.js';
import {
  composeInterpolate,
  configVariables,
  parseDockerfile,
  parseEnvFile,
  parseYamlDocuments,
  readRepoFile,
} from '../helpers/deploy-files.js';
import { ROOT } from '../helpers/harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEFAULTS = configSchema.parse({});
const VERSION = (JSON.parse(readRepoFile('package.json')) as { version: string }).version;
/** Every HTTP path the service answers a proxy event on (with the default base path). */
const SERVED_PATHS = new Set(EVENT_ROUTES.map((r) => `${DEFAULTS.http.base_path}${r.httpPath}`));
const DEFAULT_CONFIG_VARS = configVariables(readRepoFile('config/default.yaml'));
/** The standard OpenTelemetry variables tracing reads (src/telemetry/tracing.ts). */
const isOtel = (name: string) => name.startsWith('OTEL_');

/** Every proxy object in a Centrifugo config with the event it carries. */
function centrifugoProxies(config: Json): Array<[string, Json]> {
  return [
    ['connect', config.client.proxy.connect],
    ['refresh', config.client.proxy.refresh],
    ['subscribe', config.channel.proxy.subscribe],
    ['publish', config.channel.proxy.publish],
    ['sub_refresh', config.channel.proxy.sub_refresh],
    ['rpc', config.rpc.proxy],
  ];
}

describe('deploy/centrifugo configs', () => {
  for (const transport of PROXY_TRANSPORTS) {
    it(`config-${transport}.json: every proxy endpoint is one the service serves`, () => {
      const config = JSON.parse(readRepoFile(`deploy/centrifugo/config-${transport}.json`)) as Json;
      for (const [where, proxy] of centrifugoProxies(config)) {
        const route = EVENT_ROUTES.find((r) => r.event === where);
        const url = new URL(proxy.endpoint as string);
        if (transport === 'http') {
          assert.equal(url.protocol, 'http:', where);
          assert.equal(Number(url.port), DEFAULTS.http.port, `${where}: port`);
          assert.ok(SERVED_PATHS.has(url.pathname), `${where}: ${url.pathname} is not served (${[...SERVED_PATHS].join(', ')})`);
          assert.equal(url.pathname, `${DEFAULTS.http.base_path}${route?.httpPath}`, `${where} goes to its own handler`);
          assert.ok(proxy.http.static_headers[DEFAULTS.caller_auth.header], `${where}: sends the caller secret header`);
        } else {
          assert.equal(url.protocol, 'grpc:', where);
          assert.equal(Number(url.port), DEFAULTS.grpc.port, `${where}: port`);
          assert.equal(proxy.grpc.credentials_key, DEFAULTS.caller_auth.header, `${where}: credentials_key`);
        }
      }
    });
  }
});

describe('docker-compose.yml', () => {
  const envExample = parseEnvFile(readRepoFile('.env.example'));
  const missing: string[] = [];
  const compose = parse(composeInterpolate(readRepoFile('docker-compose.yml'), envExample, missing), { merge: true }) as Json;
  const services = compose.services as Record<string, Json>;

  it('.env.example sets every variable compose requires', () => {
    assert.deepEqual(missing, []);
    assert.ok(['http', 'grpc'].includes(envExample.COMPOSE_PROFILES ?? ''), 'COMPOSE_PROFILES picks a Centrifugo');
  });

  for (const transport of PROXY_TRANSPORTS) {
    it(`centrifugo-${transport}: v6.9.1 with config-${transport}.json, pointed at the proxy with the e2e-proven variables`, () => {
      const service = services[`centrifugo-${transport}`] as Json;
      assert.equal(service.image, 'centrifugo/centrifugo:v6.9.1');
      assert.deepEqual(service.profiles, [transport]);
      const [host, container] = (service.volumes[0] as string).split(':');
      assert.equal(host, `./deploy/centrifugo/config-${transport}.json`);
      assert.ok(service.command.includes(container), 'runs the mounted config');
      // The same names the end-to-end suite starts the real Centrifugo with.
      const expected = proxyEnv({ transport, proxyHttpUrl: 'http://proxy:3000', proxyGrpcAddress: 'proxy:50051', proxySecret: envExample.PROXY_SECRET as string });
      for (const [name, value] of Object.entries(expected)) assert.equal(service.environment[name], value, name);
      const proxyEnvNames = Object.keys(service.environment).filter((n) => /_PROXY_/.test(n));
      assert.deepEqual(proxyEnvNames.sort(), Object.keys(expected).sort(), 'no misspelt override (Centrifugo ignores unknown ones)');
    });
  }

  it('proxy: built from the Dockerfile, ports and env the config reads, policies read-only', () => {
    const proxy = services.proxy as Json;
    assert.equal(proxy.build, '.');
    assert.equal(proxy.image, `centrifugo-policy-proxy:${VERSION}`);
    assert.deepEqual(proxy.ports, [`${DEFAULTS.http.port}:${DEFAULTS.http.port}`, `${DEFAULTS.grpc.port}:${DEFAULTS.grpc.port}`]);
    assert.ok(proxy.volumes.includes('./policies:/app/policies:ro'));
    const configArg = proxy.command[proxy.command.indexOf('--config') + 1] as string;
    const hostConfig = configArg.replace(/^\/app\//, '');
    assert.ok(existsSync(resolve(ROOT, hostConfig)), `${hostConfig} exists`);
    const reads = configVariables(readRepoFile(hostConfig));
    for (const name of Object.keys(proxy.environment)) {
      assert.ok(reads.has(name) || isOtel(name), `${name} is read by ${hostConfig}`);
    }
    assert.ok(proxy.environment.OTEL_EXPORTER_OTLP_ENDPOINT.startsWith('http://otel-collector:'));
    // Above the drain timeout, so docker stop does not kill a drain.
    assert.ok(parseInt(proxy.stop_grace_period, 10) * 1000 > DEFAULTS.server.drain_timeout);
  });

  it('the demo config the proxy runs passes check', async () => {
    const out: string[] = [];
    const code = await runCli(['check', '--config', resolve(ROOT, 'examples/demo/config.yaml')], { log: (l) => out.push(l), error: (l) => out.push(l) });
    assert.equal(code, 0, out.join('\n'));
  });

  it('every file mounted from the repository exists', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const host = volume.split(':')[0] as string;
        if (host.startsWith('.')) assert.ok(existsSync(resolve(ROOT, host)), `${name}: ${host}`);
      }
    }
  });

  it('redis, collector, jaeger and the demo page are there', () => {
    for (const name of ['redis', 'otel-collector', 'jaeger', 'demo', 'echo']) assert.ok(services[name], name);
    const exporters = (parse(readRepoFile('deploy/otel/collector.yaml')) as Json).exporters as Json;
    assert.match(exporters['otlp/jaeger'].endpoint, /^jaeger:/);
    assert.deepEqual(services.demo?.ports, ['8080:8080']);
  });
});

describe('Dockerfile', () => {
  const instructions = parseDockerfile(readRepoFile('Dockerfile'));
  const runtime = instructions.filter((i) => i.stage === 'runtime');
  const ignored = readRepoFile('.dockerignore')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('runtime stage: production dependencies, dist from the build stage, non-root, entrypoint is the CLI', () => {
    assert.ok(runtime.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev')));
    assert.ok(runtime.some((i) => i.keyword === 'COPY' && i.args === '--from=build /app/dist ./dist'));
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1);
    assert.ok(user && user.args !== 'root' && user.args !== '0', 'runs as a non-root user');
    assert.equal(runtime.find((i) => i.keyword === 'ENTRYPOINT')?.args, '["node", "bin/centrifugo-policy-proxy.js"]');
  });

  it('every file it copies from the context exists and is not in .dockerignore', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(' ').slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(resolve(ROOT, source)), `COPY ${source}`);
        assert.ok(!ignored.includes(source), `${source} is excluded by .dockerignore`);
      }
    }
  });

  it('ports, health check, stop signal and version agree with the service', () => {
    assert.deepEqual(runtime.find((i) => i.keyword === 'EXPOSE')?.args.split(' ').map(Number), [DEFAULTS.http.port, DEFAULTS.grpc.port]);
    const health = runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    assert.match(health, /CMD \["node", "-e", .*\/healthz/, 'node probes /healthz (no curl in slim images)');
    assert.match(health, /process\.env\.HTTP_PORT\|\|3000/);
    assert.ok(DEFAULT_CONFIG_VARS.has('HTTP_PORT'));
    assert.equal(runtime.find((i) => i.keyword === 'STOPSIGNAL')?.args, 'SIGTERM');
    assert.match(runtime.find((i) => i.keyword === 'LABEL')?.args ?? '', new RegExp(`org\\.opencontainers\\.image\\.version="${VERSION.replace(/\./g, '\\.')}"`));
  });

  it('the health check command passes against a live /healthz and fails without one', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = String((server.address() as AddressInfo).port);
    const health = runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    const [, ...args] = JSON.parse(health.slice(health.indexOf('CMD ') + 4)) as string[];
    const probe = async () => (await once(spawn(process.execPath, args, { env: { ...process.env, HTTP_PORT: port } }), 'exit'))[0] as number;
    assert.equal(await probe(), 0);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    assert.equal(await probe(), 1);
  });
});

describe('deploy/kubernetes', () => {
  const docs = (file: string) => parseYamlDocuments(`deploy/kubernetes/${file}`) as Json[];
  const [deployment] = docs('deployment.yaml') as [Json];
  const [service] = docs('service.yaml') as [Json];
  const [secret] = docs('secret.yaml') as [Json];
  const [configMap, policies] = docs('configmap.yaml') as [Json, Json];
  const pod = deployment.spec.template.spec as Json;
  const container = pod.containers[0] as Json;
  const configText = configMap.data['config.yaml'] as string;

  /** The ConfigMaps laid out as the pod sees them, in a temp dir. */
  function mountConfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'cpp-k8s-'));
    writeFileSync(join(dir, 'config.yaml'), configText);
    for (const item of pod.volumes.find((v: Json) => v.name === 'policies').configMap.items as Json[]) {
      const file = join(dir, 'policies', item.path);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, policies.data[item.key]);
    }
    return dir;
  }
  const secretEnv = Object.fromEntries(Object.entries(secret.stringData as Record<string, string>).map(([k, v]) => [k, k === 'JWKS_URL' ? 'https://idp.example.com/jwks.json' : v]));

  it('kustomization lists every manifest', () => {
    const listed = (parseYamlDocuments('deploy/kubernetes/kustomization.yaml')[0] as Json).resources as string[];
    for (const file of listed) assert.ok(existsSync(resolve(ROOT, 'deploy/kubernetes', file)), file);
    assert.deepEqual([...listed].sort(), ['configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'pdb.yaml', 'secret.yaml', 'service.yaml']);
  });

  it('the ConfigMap config and policy pass check, with the env the Deployment sets', async () => {
    const dir = mountConfig();
    const env: Record<string, string> = { ...secretEnv, LOG_LEVEL: 'info' };
    const config = parseConfig(configText, join(dir, 'config.yaml'), env);
    assert.equal(config.http.port, 3000);
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const out: string[] = [];
      const code = await runCli(['check', '--config', join(dir, 'config.yaml')], { log: (l) => out.push(l), error: (l) => out.push(l) });
      assert.equal(code, 0, out.join('\n'));
    } finally {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('env names are ones the config reads, secrets exist, config is mounted where args point', () => {
    const reads = configVariables(configText);
    for (const entry of container.env as Json[]) {
      assert.ok(reads.has(entry.name), `${entry.name} is read by the ConfigMap's config.yaml`);
      const ref = entry.valueFrom?.secretKeyRef;
      if (ref) {
        assert.equal(ref.name, secret.metadata.name);
        assert.ok(ref.key in secret.stringData, `Secret has ${ref.key}`);
      }
    }
    for (const name of reads) {
      if (!/:-/.test(configText.split(`\${${name}`)[1]?.split('}')[0] ?? '')) {
        assert.ok((container.env as Json[]).some((e) => e.name === name), `${name} (no default) is set`);
      }
    }
    const configArg = container.args[container.args.indexOf('--config') + 1] as string;
    const mount = (container.volumeMounts as Json[]).find((m) => configArg.startsWith(`${m.mountPath}/`) && m.name === 'config');
    assert.ok(mount, `${configArg} is on the config volume`);
    assert.equal(pod.volumes.find((v: Json) => v.name === 'config').configMap.name, configMap.metadata.name);
    const policyMount = (container.volumeMounts as Json[]).find((m) => m.name === 'policies');
    assert.ok(policyMount && !policyMount.subPath, 'subPath mounts never see ConfigMap updates');
  });

  it('probes, ports and grace period agree with the service', () => {
    const dir = mountConfig();
    const config = parseConfig(configText, join(dir, 'config.yaml'), secretEnv);
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    const ports = Object.fromEntries((container.ports as Json[]).map((p) => [p.name, p.containerPort]));
    assert.deepEqual(ports, { http: config.http.port, grpc: config.grpc.port });
    for (const p of service.spec.ports as Json[]) assert.equal(p.targetPort in ports, true, p.name);
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    const preStop = Number((container.lifecycle.preStop.exec.command as string[]).at(-1));
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > config.server.drain_timeout + preStop * 1000, 'grace period above preStop + drain_timeout');
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.equal(container.image.split(':').at(-1), VERSION);
    assert.ok(pod.securityContext.runAsNonRoot);
  });

  it('PodDisruptionBudget and HorizontalPodAutoscaler target the Deployment', () => {
    const [pdb] = docs('pdb.yaml') as [Json];
    const [hpa] = docs('hpa.yaml') as [Json];
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.ok(hpa.spec.minReplicas > pdb.spec.minAvailable, 'a drain never blocks on the budget');
  });

  it('the ConfigMap model is the shipped one (so decisions run on the index)', () => {
    assert.equal(policies.data['model.conf'], readFileSync(resolve(ROOT, 'policies/model.conf'), 'utf8'));
  });
});
