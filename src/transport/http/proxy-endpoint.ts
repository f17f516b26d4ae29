/**
 * The six proxy endpoints on plain node:http: no router and no middleware on the hot path.
 * Only requests that are not Centrifugo proxy requests get HTTP 4xx; every decision is a 200.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, decodeRequest } from '../../core/decode.js';
import { jsonTextWithinDepth, MAX_JSON_DEPTH } from '../../core/json-depth.js';
import type { EventName } from '../../core/events.js';
import type { JsonValue } from '../../core/messages.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { CallerCheck } from '../caller-auth.js';
import type { Dispatcher } from '../dispatcher.js';
import { encodeHttpDecision } from './encode.js';
import { ForwardedHeaders, joinRepeated } from './forwarded-headers.js';
import type { ThrottledLog } from '../../telemetry/throttled-log.js';

export interface ProxyEndpointDeps {
  readonly dispatcher: Dispatcher;
  readonly callerOk: CallerCheck;
  readonly callerHeader: string;
  readonly bodyLimit: number;
  readonly metrics: Metrics;
  /** Refused requests (wrong caller secret, malformed bodies), at most a line per reason and interval. */
  readonly refusals?: ThrottledLog;
}

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number, declared: number): Promise<Buffer> {
  if (declared > limit) return Promise.reject(new HttpRefusal(413, `body larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpRefusal(413, `body larger than ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface RequestHeaders {
  /** Everything Centrifugo forwarded, lowercased, without the caller secret (it must reach nothing else). */
  readonly forwarded: ForwardedHeaders;
  readonly secret?: string;
  readonly contentType: string;
  readonly contentLength: number;
  readonly traceparent?: string;
}

/**
 * One pass over the raw header list for the four headers the endpoint needs; the rest become a
 * map only if a handler asks (ForwardedHeaders). Reading `req.headers` would make node build a
 * second header object per request, which showed up as a large share of the HTTP path's cost.
 */
function readHeaders(req: IncomingMessage, callerHeader: string): RequestHeaders {
  const raw = req.rawHeaders;
  let secret: string | undefined;
  let contentType: string | undefined;
  let contentLength: string | undefined;
  let traceparent: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const given = raw[i] as string;
    // Lowercased only when the length says it may be one of the four.
    const length = given.length;
    if (length !== callerHeader.length && length !== 12 && length !== 14 && length !== 11) continue;
    const name = given.toLowerCase();
    const value = raw[i + 1] as string;
    if (name === callerHeader) secret ??= value;
    else if (name === 'content-type') contentType = joinRepeated(name, contentType, value);
    else if (name === 'content-length') contentLength = joinRepeated(name, contentLength, value);
    else if (name === 'traceparent') traceparent = joinRepeated(name, traceparent, value);
  }
  return {
    forwarded: new ForwardedHeaders(raw, callerHeader),
    secret,
    contentType: contentType ?? '',
    contentLength: Number(contentLength),
    traceparent,
  };
}

/** `data` and `meta` sit one level inside the body, so the body may be one level deeper than they may. */
const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 1;

function parseBody(body: Buffer): Record<string, unknown> {
  // Scanned before parsing: decode.ts trusts parsed data to have been checked here.
  if (!jsonTextWithinDepth(body, MAX_BODY_DEPTH)) throw new HttpRefusal(400, `body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpRefusal(400, 'body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpRefusal(400, 'body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Aborted when the caller goes away before the answer. Only rpc asks for it: its upstream call
 * is worth cancelling, and an AbortController per decision would cost more than the decision.
 */
function abortWhenGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * `beforeHead` runs before every answer's head: the drain's `connection: close`. (A
 * ServerResponse subclass overriding writeHead did that for every answer, at a cost on every
 * request.)
 */
export function proxyEndpoint(event: EventName, deps: ProxyEndpointDeps, beforeHead: (res: ServerResponse) => void) {
  const handler = deps.dispatcher[event];
  const send = (res: ServerResponse, status: number, body: string) => {
    beforeHead(res);
    sendJson(res, status, body);
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (req.method !== 'POST') throw new HttpRefusal(405, 'proxy endpoints accept POST only');
      const headers = readHeaders(req, deps.callerHeader);
      if (!deps.callerOk(headers.secret)) throw new HttpRefusal(401, 'caller authentication failed');
      if (!headers.contentType.toLowerCase().startsWith('application/json')) throw new HttpRefusal(415, 'content-type must be application/json');
      const fields = parseBody(await readBody(req, deps.bodyLimit, headers.contentLength));
      const meta = fields.meta === undefined || fields.meta === null ? undefined : (fields.meta as JsonValue);
      let request;
      try {
        const parsedData = fields.data === undefined || fields.data === null ? undefined : (fields.data as JsonValue);
        request = decodeRequest(event, { fields, parsedData, meta, headers: headers.forwarded });
      } catch (err) {
        if (err instanceof BadRequestError) throw new HttpRefusal(400, err.message);
        throw err;
      }
      const signal = event === 'rpc' ? abortWhenGone(res) : undefined;
      const decision = handler(request as never, { transport: 'http', traceparent: headers.traceparent, signal });
      // A decision known at once is written without another turn of the event loop.
      send(res, 200, encodeHttpDecision(decision instanceof Promise ? await decision : decision, request.binary));
    } catch (err) {
      if (!(err instanceof HttpRefusal)) throw err;
      deps.metrics.badRequests.inc({ transport: 'http', reason: String(err.status) });
      deps.refusals?.warn(`http ${err.status}`, { transport: 'http', status: err.status, reason: err.message, event }, 'refused a request that is not a valid proxy request');
      // The rest of a refused body is not read; close instead of keeping a half-read connection.
      if (!req.complete) res.setHeader('connection', 'close');
      send(res, err.status, JSON.stringify({ error: err.message }));
    }
  };
}
