/**
 * Backend API keys for /api/publish and /api/broadcast. Keys are kept only as SHA-256 digests
 * and compared with crypto.timingSafeEqual against every configured key (no early exit), so
 * neither a key's content nor which key matched shows in the timing. Several keys may name the
 * same subject: add the new key, roll it out, remove the old one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface KeyIdentity {
  readonly subject: string;
  readonly roles: readonly string[];
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export class ApiKeys {
  private readonly entries: ReadonlyArray<{ readonly digest: Buffer; readonly identity: KeyIdentity }>;

  constructor(keys: ReadonlyArray<{ key: string; subject: string; roles: readonly string[] }>) {
    this.entries = keys.map((k) => ({ digest: digest(k.key), identity: { subject: k.subject, roles: [...k.roles] } }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The identity of the presented key, if it is one of ours. */
  identify(presented: string | undefined): KeyIdentity | undefined {
    if (presented === undefined || presented === '') return undefined;
    const candidate = digest(presented);
    let found: KeyIdentity | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate) && !found) found = entry.identity;
    }
    return found;
  }
}

/** The key from `X-API-Key: KEY` or `Authorization: apikey KEY` (Centrifugo's own spellings). */
export function presentedKey(headers: { [name: string]: string | string[] | undefined }): string | undefined {
  const direct = headers['x-api-key'];
  if (typeof direct === 'string' && direct.trim() !== '') return direct.trim();
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = /^(?:apikey|bearer)\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}
