/**
 * Finds Centrifugo's own proxy.proto in the Go module cache, where `go install` (run by
 * scripts/install-centrifugo.sh) leaves the module's source. Nothing of Centrifugo's is kept in
 * this repository: the compatibility test reads the genuine file where Go put it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Centrifugo release this proxy is built and tested against. */
export const CENTRIFUGO_VERSION = 'v6.9.1';

/** Where Go keeps downloaded modules: what `go env` says, else Go's own defaults. */
export function goModCache(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const fromGo = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    if (fromGo !== '') return fromGo;
  } catch {
    // No Go on PATH (or it failed): fall back to the places Go would use.
  }
  if (env.GOMODCACHE) return env.GOMODCACHE;
  const gopath = env.GOPATH?.split(delimiter).find((p) => p !== '');
  return join(gopath ?? join(homedir(), 'go'), 'pkg', 'mod');
}

/** The path proxy.proto has in the module cache (whether or not it is there). */
export function genuineProxyProtoPath(version = CENTRIFUGO_VERSION): string {
  return join(goModCache(), 'github.com', 'centrifugal', 'centrifugo', `v6@${version}`, 'internal', 'proxyproto', 'proxy.proto');
}

/** The genuine file, or why it cannot be read and how to get it. */
export function genuineProxyProto(): { file: string } | { missing: string } {
  const file = genuineProxyProtoPath();
  if (existsSync(file)) return { file };
  return { missing: `Centrifugo ${CENTRIFUGO_VERSION}'s proxy.proto is not at ${file}; run \`bash scripts/install-centrifugo.sh\` (needs Go)` };
}
