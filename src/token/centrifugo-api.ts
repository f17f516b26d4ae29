/**
 * Calls Centrifugo's HTTP server API (`POST {centrifugo_url}/{method}` with `X-API-Key`) for
 * /api/publish and /api/broadcast. One attempt is bounded by `timeout`; a failure is retried
 * once when that is safe: always when the connection was never made (nothing reached
 * Centrifugo), otherwise only when the caller gave an idempotency_key (Centrifugo then drops
 * the duplicate). A timeout is not retried: its budget is spent.
 */
import { Agent, request } from 'undici';
import { inSpan, traceHeaders, type TraceContext } from '../telemetry/tracing.js';

export type ApiOutcome =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown> }
  /** Centrifugo answered and said no (a non-200 status, or an `error` in its body): 502. */
  | { readonly kind: 'refused'; readonly message: string; readonly centrifugoError?: { code: number; message: string } }
  /** No answer within the timeout: 504. */
  | { readonly kind: 'timeout' }
  /** Could not reach it: 503. */
  | { readonly kind: 'unreachable'; readonly message: string };

export interface CentrifugoApiOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly onAttempt?: (method: string, status: string, seconds: number) => void;
}

/** Errors raised before any byte went out: the request certainly did not reach Centrifugo. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const MAX_ANSWER_BYTES = 1024 * 1024;

const errorCode = (err: unknown): string | undefined =>
  (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;

export class CentrifugoApi {
  private readonly agent: Agent;
  private readonly base: string;

  constructor(private readonly options: CentrifugoApiOptions) {
    this.base = options.url.replace(/\/+$/, '');
    // A dead Centrifugo must show quickly: connecting may take at most the call's timeout.
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, connect: { timeout: options.timeoutMs } });
  }

  async call(method: 'publish' | 'broadcast', body: Record<string, unknown>, trace?: TraceContext): Promise<ApiOutcome> {
    const idempotent = typeof body.idempotency_key === 'string' && body.idempotency_key !== '';
    const first = await this.traced(method, body, 1, trace);
    if (first.retry === 'never' || (first.retry === 'if_idempotent' && !idempotent)) return first.outcome;
    return (await this.traced(method, body, 2, trace)).outcome;
  }

  private traced(method: string, body: Record<string, unknown>, attempt: number, trace?: TraceContext) {
    if (!trace) return this.attempt(method, body);
    return inSpan(trace, 'centrifugo.api', async (span, child) => {
      span?.setAttributes({ 'centrifugo.api.method': method, 'centrifugo.api.attempt': attempt });
      const result = await this.attempt(method, body, child);
      span?.setAttribute('centrifugo.api.outcome', result.outcome.kind);
      return result;
    });
  }

  private async attempt(method: string, body: Record<string, unknown>, trace?: TraceContext): Promise<{ outcome: ApiOutcome; retry: 'never' | 'always' | 'if_idempotent' }> {
    const started = performance.now();
    const report = (status: string) => this.options.onAttempt?.(method, status, (performance.now() - started) / 1000);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await request(`${this.base}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': this.options.apiKey, ...(trace ? traceHeaders(trace) : {}) },
        body: JSON.stringify(body),
        signal,
        dispatcher: this.agent,
      });
      const text = Buffer.from(await response.body.arrayBuffer());
      report(String(response.statusCode));
      if (response.statusCode !== 200) {
        const snippet = text.subarray(0, 200).toString('utf8').trim();
        return { outcome: { kind: 'refused', message: `centrifugo answered ${response.statusCode}${snippet ? `: ${snippet}` : ''}` }, retry: 'never' };
      }
      if (text.length > MAX_ANSWER_BYTES) return { outcome: { kind: 'refused', message: 'centrifugo answer too large' }, retry: 'never' };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text.toString('utf8'));
      } catch {
        return { outcome: { kind: 'refused', message: 'centrifugo answered something that is not JSON' }, retry: 'never' };
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return { outcome: { kind: 'refused', message: 'centrifugo answered something that is not a JSON object' }, retry: 'never' };
      }
      const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
      if (error && typeof error === 'object') {
        const centrifugoError = { code: Number(error.code), message: String(error.message ?? '') };
        return { outcome: { kind: 'refused', message: `centrifugo error ${centrifugoError.code}: ${centrifugoError.message}`, centrifugoError }, retry: 'never' };
      }
      return { outcome: { kind: 'ok', body: parsed as Record<string, unknown> }, retry: 'never' };
    } catch (err) {
      if (signal.aborted || errorCode(err) === 'UND_ERR_HEADERS_TIMEOUT' || errorCode(err) === 'UND_ERR_BODY_TIMEOUT') {
        report('timeout');
        return { outcome: { kind: 'timeout' }, retry: 'never' };
      }
      const code = errorCode(err) ?? (err as Error).name;
      report('unreachable');
      return { outcome: { kind: 'unreachable', message: `centrifugo unreachable (${code})` }, retry: NOT_SENT.has(code) ? 'always' : 'if_idempotent' };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
