/**
 * Who may read the policy page. With a token, a request carries it as `Authorization: Bearer`
 * (scripts) or as a session cookie the login form sets (browsers): HttpOnly so page scripts
 * never see it, SameSite=Strict so no other site's page can send it. The cookie holds an expiry
 * and an HMAC keyed by the token, never the token itself; changing the token ends every
 * session. All comparisons are constant-time.
 *
 * Without a token (allowed on loopback only, see config-problems.ts) the Host header must name
 * a loopback address too: otherwise any web page the operator visits could read the policy
 * through a DNS name rebound to 127.0.0.1.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { callerCheck } from '../../transport/caller-auth.js';
import { isLoopback } from './config-problems.js';

export const SESSION_COOKIE = 'cpp_policy_page';
const SESSION_SECONDS = 8 * 60 * 60;

export type AccessResult = 'ok' | 'login' | 'bad_host';

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** "host", "host:port", "[v6]:port" → the host part. */
function hostName(header: string | undefined): string {
  const value = header ?? '';
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  return colon >= 0 ? value.slice(0, colon) : value;
}

export class PageAccess {
  private readonly tokenOk: (presented: string | undefined) => boolean;

  constructor(
    private readonly token: string,
    private readonly now: () => number,
  ) {
    this.tokenOk = callerCheck(token);
  }

  get protected(): boolean {
    return this.token !== '';
  }

  check(headers: IncomingHttpHeaders): AccessResult {
    if (!this.protected) return isLoopback(hostName(headers.host)) ? 'ok' : 'bad_host';
    const auth = headers.authorization;
    if (auth !== undefined && /^bearer /i.test(auth)) return this.tokenOk(auth.slice('bearer '.length).trim()) ? 'ok' : 'login';
    return this.sessionOk(cookieValue(headers.cookie, SESSION_COOKIE)) ? 'ok' : 'login';
  }

  /** The login form's answer: a Set-Cookie value for a right token, undefined otherwise. */
  login(presented: string): string | undefined {
    if (!this.protected || !this.tokenOk(presented)) return undefined;
    const expires = Math.floor(this.now() / 1000) + SESSION_SECONDS;
    return `${SESSION_COOKIE}=${expires}.${this.mac(expires)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}`;
  }

  static readonly logout = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

  private sessionOk(value: string | undefined): boolean {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (!match) return false;
    const expires = Number(match[1]);
    const expected = Buffer.from(this.mac(expires));
    const presented = Buffer.from(match[2] ?? '');
    return timingSafeEqual(presented, expected) && expires > this.now() / 1000;
  }

  private mac(expires: number): string {
    return createHmac('sha256', this.token).update(`policy-page-session:${expires}`).digest('base64url');
  }
}
