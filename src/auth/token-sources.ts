/**
 * Finds the connection token in the places `auth.token_sources` lists, in order. Everything
 * here is client-controlled (connect data, forwarded and emulated headers, cookies): it is only
 * a candidate until its signature verifies.
 */
import type { ConnectRequest } from '../core/messages.js';

export type TokenSource =
  | { readonly kind: 'data'; readonly field: string }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

export function parseTokenSource(text: string): TokenSource {
  if (text.startsWith('data.')) return { kind: 'data', field: text.slice('data.'.length) };
  if (text.startsWith('header:')) return { kind: 'header', name: text.slice('header:'.length).toLowerCase() };
  if (text.startsWith('cookie:')) return { kind: 'cookie', name: text.slice('cookie:'.length) };
  throw new Error(`unknown token source "${text}"`);
}

/** The connect payload as a JSON object, if it is one (JSON mode, or JSON inside b64data). */
function dataObject(request: ConnectRequest): Record<string, unknown> | undefined {
  if (!request.data) return undefined;
  try {
    const parsed: unknown = request.data.parsed ?? JSON.parse(request.data.bytes.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

function fromSource(source: TokenSource, request: ConnectRequest): string | undefined {
  switch (source.kind) {
    case 'data': {
      const value = dataObject(request)?.[source.field];
      return typeof value === 'string' && value !== '' ? value : undefined;
    }
    case 'header': {
      const value = request.headers.get(source.name);
      if (!value) return undefined;
      // Authorization-style headers carry "Bearer <token>"; other headers carry the token itself.
      const bearer = /^bearer\s+(\S+)\s*$/i.exec(value);
      if (bearer) return bearer[1];
      return source.name === 'authorization' ? undefined : value.trim() || undefined;
    }
    case 'cookie': {
      const header = request.headers.get('cookie');
      return header ? cookieValue(header, source.name) || undefined : undefined;
    }
  }
}

export function findToken(sources: readonly TokenSource[], request: ConnectRequest): string | undefined {
  for (const source of sources) {
    const token = fromSource(source, request);
    if (token !== undefined) return token;
  }
  return undefined;
}
