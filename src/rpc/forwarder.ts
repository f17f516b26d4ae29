/**
 * Forwards an allowed RPC call to its upstream: the call's data is the POST body, the identity
 * travels in headers. Failures map to the CONTRACT's temporary 502/503/504 errors.
 */
import { request as httpRequest, Agent } from 'undici';
import type { Codes } from '../config/schema.js';
import { allow, fail, type Decision } from '../core/decision.js';
import type { RpcRequest, RpcResult } from '../core/messages.js';
import type { HandlerContext } from '../handlers/handler.js';
import { RouteTable, type Route } from './route-table.js';

/** Upstream answers larger than this are refused (Centrifugo has to carry them to a client). */
const MAX_UPSTREAM_BODY = 1024 * 1024;

export interface RpcForwarder {
  find(method: string): Route | undefined;
  forward(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext): Promise<Decision<RpcResult>>;
  close(): Promise<void>;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function isApplicationError(value: unknown): value is { error: { code: number; message: string; temporary?: boolean } } {
  if (value === null || typeof value !== 'object' || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return Number.isInteger(code) && (code as number) >= 400 && (code as number) <= 1999 && typeof message === 'string';
}

export class HttpRpcForwarder implements RpcForwarder {
  private readonly table: RouteTable;
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

  constructor(
    routes: ConstructorParameters<typeof RouteTable>[0],
    private readonly codes: Codes,
  ) {
    this.table = new RouteTable(routes);
  }

  find(method: string): Route | undefined {
    return this.table.find(method);
  }

  async forward(route: Route, request: RpcRequest, roles: readonly string[], ctx: HandlerContext): Promise<Decision<RpcResult>> {
    const headers: Record<string, string> = {
      'content-type': request.binary ? 'application/octet-stream' : 'application/json',
      'x-centrifugo-user': request.user,
      'x-centrifugo-client': request.client,
      'x-centrifugo-method': request.method,
      'x-centrifugo-roles': JSON.stringify(roles),
    };
    if (request.meta !== undefined) headers['x-centrifugo-meta'] = JSON.stringify(request.meta);
    if (ctx.traceparent) headers.traceparent = ctx.traceparent;
    const body = request.data?.bytes ?? (request.binary ? Buffer.alloc(0) : Buffer.from('null'));
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(route.timeoutMs)]);
    let response;
    try {
      response = await httpRequest(route.upstream, { method: 'POST', headers, body, signal, dispatcher: this.agent });
    } catch (err) {
      return fail(this.failureCode(err));
    }
    try {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      if (response.statusCode >= 500 || response.statusCode < 200 || response.statusCode >= 300) {
        ctx.log.warn({ upstream: route.upstream, status: response.statusCode }, 'rpc upstream answered with an error status');
        return fail(this.codes.upstream_error);
      }
      if (bytes.length > MAX_UPSTREAM_BODY) return fail(this.codes.upstream_error);
      if (request.binary) return allow(bytes.length > 0 ? { data: { bytes } } : {});
      if (bytes.length === 0) return allow({});
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        return fail(this.codes.upstream_error);
      }
      if (isApplicationError(parsed)) {
        return fail({ code: parsed.error.code, message: parsed.error.message, temporary: parsed.error.temporary === true });
      }
      return allow(parsed === null ? {} : { data: { bytes: Buffer.from(JSON.stringify(parsed)) } });
    } catch (err) {
      return fail(this.failureCode(err));
    }
  }

  private failureCode(err: unknown) {
    const name = (err as Error)?.name;
    const code = (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return this.codes.upstream_timeout;
    }
    if (code && UNREACHABLE.has(code)) return this.codes.upstream_unavailable;
    return this.codes.upstream_unavailable;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
