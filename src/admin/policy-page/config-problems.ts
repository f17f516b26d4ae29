/** Config cross-checks of policy_page, run by config load with the others. */
import { isIPv4 } from 'node:net';
import type { Config } from '../../config/schema.js';

/** Only this machine can connect: 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost". */
export function isLoopback(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIPv4(v4) && v4.startsWith('127.');
}

export function policyPageProblems(config: Config): string[] {
  const page = config.policy_page;
  const problems: string[] = [];
  if (page.token !== '' && Buffer.byteLength(page.token) < 16) problems.push('policy_page.token: must be at least 16 bytes');
  if (!page.enabled) return problems;
  // The page shows every rule and answers "what may user X do" for anyone who reaches it.
  if (page.token === '' && !isLoopback(page.host)) {
    problems.push(`policy_page.token: required when policy_page.host is not a loopback address (got "${page.host}"): set a token of at least 16 bytes, or host: 127.0.0.1`);
  }
  if (page.port !== 0 && (page.port === config.http.port || (config.grpc.enabled && page.port === config.grpc.port))) {
    problems.push('policy_page.port: must differ from http.port and grpc.port');
  }
  return problems;
}
