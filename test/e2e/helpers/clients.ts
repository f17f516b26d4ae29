/**
 * Clients made with Centrifugo's own SDK (`centrifuge`, JSON and protobuf builds) over `ws`,
 * recording what the application would see: state changes, disconnect codes, publications.
 */
import { Centrifuge, type Options, type Subscription, type SubscriptionOptions } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';

export interface ClientEvent {
  readonly type: string;
  readonly code?: number;
  readonly reason?: string;
  readonly temporary?: boolean;
  readonly data?: unknown;
  readonly channel?: string;
  readonly info?: unknown;
}

export interface RecordedClient {
  readonly client: Centrifuge;
  readonly events: ClientEvent[];
  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(match: (event: ClientEvent) => boolean, what: string, timeoutMs?: number): Promise<ClientEvent>;
  close(): void;
}

/**
 * The SDK's WebSocket: adds HTTP headers to the upgrade request (e.g. a browser's traceparent)
 * and records each close frame's code and reason, which the SDK does not always pass on (a
 * reconnect code during connecting shows only as "connection closed").
 */
function recordingWebsocket(headers: Record<string, string> | undefined, onClose: (code: number, reason: string) => void): typeof WebSocket {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, headers ? { headers } : {});
      this.on('close', (code: number, reason: Buffer) => onClose(code, reason.toString()));
    }
  } as unknown as typeof WebSocket;
}

export interface ClientOptions extends Partial<Options> {
  readonly protobuf?: boolean;
  /** Headers on the WebSocket upgrade request (what http_headers forwards). */
  readonly upgradeHeaders?: Record<string, string>;
}

const settle = <T>(events: ClientEvent[], listeners: Set<() => void>) => ({
  waitFor(match: (event: ClientEvent) => boolean, what: string, timeoutMs = 8000): Promise<ClientEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (!found) return false;
        clearTimeout(timer);
        listeners.delete(check as () => void);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check as () => void);
        reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(events)}`));
      }, timeoutMs);
      if (!check()) listeners.add(check as () => void);
    });
  },
  _t: undefined as T | undefined,
});

export function makeClient(url: string, options: ClientOptions = {}): RecordedClient {
  const { protobuf, upgradeHeaders, ...sdkOptions } = options;
  const Ctor = (protobuf ? ProtobufCentrifuge : Centrifuge) as typeof Centrifuge;
  const events: ClientEvent[] = [];
  const listeners = new Set<() => void>();
  const push = (event: ClientEvent) => {
    events.push(event);
    for (const listener of [...listeners]) listener();
  };
  const client = new Ctor(url, {
    websocket: recordingWebsocket(upgradeHeaders, (code, reason) => push({ type: 'ws-close', code, reason })),
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
    timeout: 4000,
    ...sdkOptions,
  });
  client.on('connected', (ctx) => push({ type: 'connected', data: ctx.data }));
  client.on('connecting', (ctx) => push({ type: 'connecting', code: ctx.code, reason: ctx.reason }));
  client.on('disconnected', (ctx) => push({ type: 'disconnected', code: ctx.code, reason: ctx.reason }));
  client.on('error', (ctx) => push({ type: 'error', code: ctx.error.code, reason: ctx.error.message, temporary: (ctx.error as { temporary?: boolean }).temporary }));
  client.on('publication', (ctx) => push({ type: 'server-publication', channel: ctx.channel, data: ctx.data, info: ctx.info }));
  client.on('subscribed', (ctx) => push({ type: 'server-subscribed', channel: ctx.channel }));
  const { waitFor } = settle(events, listeners);
  return { client, events, waitFor, close: () => client.disconnect() };
}

export interface RecordedSubscription {
  readonly sub: Subscription;
  readonly events: ClientEvent[];
  waitFor(match: (event: ClientEvent) => boolean, what: string, timeoutMs?: number): Promise<ClientEvent>;
}

export function subscribe(recorded: RecordedClient, channel: string, options: Partial<SubscriptionOptions> = {}): RecordedSubscription {
  const sub = recorded.client.newSubscription(channel, { minResubscribeDelay: 100, maxResubscribeDelay: 500, ...options });
  const events: ClientEvent[] = [];
  const listeners = new Set<() => void>();
  const push = (event: ClientEvent) => {
    events.push(event);
    for (const listener of [...listeners]) listener();
  };
  sub.on('subscribed', () => push({ type: 'subscribed', channel }));
  sub.on('subscribing', (ctx) => push({ type: 'subscribing', code: ctx.code, reason: ctx.reason }));
  sub.on('unsubscribed', (ctx) => push({ type: 'unsubscribed', code: ctx.code, reason: ctx.reason }));
  sub.on('error', (ctx) => push({ type: 'error', code: ctx.error.code, reason: ctx.error.message, temporary: (ctx.error as { temporary?: boolean }).temporary }));
  sub.on('publication', (ctx) => push({ type: 'publication', data: ctx.data, info: ctx.info }));
  sub.subscribe();
  const { waitFor } = settle(events, listeners);
  return { sub, events, waitFor };
}

/** Waits a fixed time (for "nothing happens" checks, e.g. a connection that must stay up). */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a rejected SDK call carries: code, message, temporary. */
export async function rejection(promise: Promise<unknown>): Promise<{ code: number; message: string; temporary?: boolean }> {
  try {
    await promise;
  } catch (err) {
    const { code, message, temporary } = err as { code: number; message: string; temporary?: boolean };
    return { code, message, ...(temporary ? { temporary } : {}) };
  }
  throw new Error('expected the call to be refused');
}
