/**
 * GRPC CentrifugoProxy: the six unary methods derived from the event registry and the standard
 * health service (connections, TLS and mutual TLS: listener.ts). Decisions travel in OK responses; only requests
 * that are not proxy requests get a non-OK status.
 */
import { Server, status, type Metadata, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { BadRequestError, decodeRequest } from '../../core/decode.js';
import { jsonTextWithinDepth, MAX_JSON_DEPTH } from '../../core/json-depth.js';
import { LazyHeaders } from '../../core/lazy-headers.js';
import type { JsonValue } from '../../core/messages.js';
import { EVENT_ROUTES } from '../../handlers/registry.js';
import type { ThrottledLog } from '../../telemetry/throttled-log.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { CallerCheck } from '../caller-auth.js';
import type { Dispatcher } from '../dispatcher.js';
import type { Drainable } from '../drain.js';
import { encodeGrpcDecision } from './encode.js';
import type { GrpcListener } from './listener.js';
import { proxyServiceClient, SERVICE_NAME } from './proto.js';
import { serverServiceDefinition, UndecodableRequest } from './service-definition.js';

export interface GrpcServerDeps {
  readonly dispatcher: Dispatcher;
  readonly callerOk: CallerCheck;
  readonly callerHeader: string;
  readonly maxMessageSize: number;
  /** grpc.max_connection_age in ms (0: connections are never aged out). */
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Refused requests (wrong caller secret, undecodable messages), at most a line per reason and interval. */
  readonly refusals?: ThrottledLog;
}

class GrpcRefusal extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return value === undefined ? undefined : value.toString();
}

/** Call metadata as headers (binary and grpc- keys and the caller secret left out), built only when a handler asks. */
class MetadataHeaders extends LazyHeaders {
  constructor(
    private readonly metadata: Metadata,
    private readonly callerHeader: string,
  ) {
    super();
  }

  protected build(): Map<string, string> {
    const headers = new Map<string, string>();
    for (const [key, values] of Object.entries(this.metadata.getMap())) {
      if (key === this.callerHeader || key.endsWith('-bin') || key.startsWith('grpc-')) continue;
      headers.set(key, Buffer.isBuffer(values) ? values.toString() : String(values));
    }
    return headers;
  }
}

/** Meta is forwarded upstream as JSON, so its depth is bounded like the HTTP body's (scanned before parsing). */
function parseMeta(bytes: unknown): JsonValue | undefined {
  if (!Buffer.isBuffer(bytes) || bytes.length === 0) return undefined;
  if (!jsonTextWithinDepth(bytes, MAX_JSON_DEPTH)) {
    throw new GrpcRefusal(status.INVALID_ARGUMENT, `field "meta" is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as JsonValue;
  } catch {
    throw new GrpcRefusal(status.INVALID_ARGUMENT, 'field "meta" is not valid JSON');
  }
}

/**
 * Only rpc does work worth cancelling (the upstream call); an AbortController per decision
 * would cost more than the decision itself.
 */
function abortOnCancel(call: ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort());
  return controller.signal;
}

export function createGrpcServer(deps: GrpcServerDeps): { server: Server; health: HealthImplementation } {
  const server = new Server({
    'grpc.max_receive_message_length': deps.maxMessageSize,
    'grpc.max_send_message_length': deps.maxMessageSize,
    ...(deps.maxConnectionAgeMs > 0
      ? { 'grpc.max_connection_age_ms': deps.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': deps.maxConnectionAgeGraceMs }
      : {}),
  });
  const implementation: UntypedServiceImplementation = {};
  for (const route of EVENT_ROUTES) {
    const handler = deps.dispatcher[route.event];
    const refuse = (err: unknown, callback: sendUnaryData<unknown>) => {
      if (err instanceof GrpcRefusal) {
        deps.metrics.badRequests.inc({ transport: 'grpc', reason: status[err.code] ?? String(err.code) });
        deps.refusals?.warn(`grpc ${err.code}`, { transport: 'grpc', status: status[err.code], reason: err.message, event: route.event }, 'refused a request that is not a valid proxy request');
        callback({ code: err.code, details: err.message });
      } else {
        deps.log.error({ err }, 'grpc proxy method failed');
        callback({ code: status.INTERNAL, details: 'internal error' });
      }
    };
    implementation[route.grpcMethod] = (call: ServerUnaryCall<Record<string, unknown> | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) => {
      // Synchronous up to the handler: a decision known at once (an in-process cache hit) is
      // answered without a promise; one still being worked on is answered when it settles.
      let binary: boolean;
      let decision;
      try {
        if (!deps.callerOk(firstValue(call.metadata, deps.callerHeader))) {
          throw new GrpcRefusal(status.UNAUTHENTICATED, 'caller authentication failed');
        }
        const fields = call.request;
        if (fields instanceof UndecodableRequest) throw new GrpcRefusal(status.INVALID_ARGUMENT, `request is not a valid ${fields.messageName} message`);
        const data = Buffer.isBuffer(fields.data) && fields.data.length > 0 ? fields.data : undefined;
        let request;
        try {
          request = decodeRequest(route.event, { fields, data, meta: parseMeta(fields.meta), headers: new MetadataHeaders(call.metadata, deps.callerHeader) });
        } catch (err) {
          if (err instanceof BadRequestError) throw new GrpcRefusal(status.INVALID_ARGUMENT, err.message);
          throw err;
        }
        binary = request.binary;
        decision = handler(request as never, {
          transport: 'grpc',
          traceparent: firstValue(call.metadata, 'traceparent'),
          signal: route.event === 'rpc' ? abortOnCancel(call) : undefined,
        });
        if (!(decision instanceof Promise)) {
          callback(null, encodeGrpcDecision(decision, binary));
          return;
        }
      } catch (err) {
        refuse(err, callback);
        return;
      }
      decision.then(
        (settled) => callback(null, encodeGrpcDecision(settled, binary)),
        (err: unknown) => refuse(err, callback),
      );
    };
  }
  // Methods we do not implement (streams, PRO hooks, maps) answer UNIMPLEMENTED through grpc-js.
  server.addService(serverServiceDefinition(proxyServiceClient().service, new Set(Object.keys(implementation))), implementation);
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  return { server, health };
}

/**
 * GRPC's side of draining (see ../drain.ts). HTTP/2 has no keep-alive to turn off: during the
 * settle step the server keeps serving (health already says NOT_SERVING). tryShutdown then sends
 * GOAWAY, so clients open no new streams here, and lets the calls in flight finish;
 * forceShutdown cancels what is left.
 */
export function grpcDrainable(server: Server, listener: GrpcListener): Drainable {
  return {
    beginDrain: () => undefined,
    // Together: the listener's close waits for its connections to end, which tryShutdown brings.
    close: async () => {
      await Promise.all([listener.close(), new Promise<void>((resolve) => server.tryShutdown(() => resolve()))]);
    },
    forceClose: () => server.forceShutdown(),
  };
}
