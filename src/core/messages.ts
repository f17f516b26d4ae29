/**
 * Transport-agnostic request and result shapes. Both transports decode into these and encode
 * from them; handlers see nothing else.
 *
 * Payloads (`data`, `info`) are raw bytes: JSON text for JSON-mode requests, arbitrary bytes in
 * binary mode. Each transport decides how bytes travel (embedded JSON / base64 / proto bytes).
 * `meta` is always JSON (Centrifugo never base64-encodes it), so it is kept parsed.
 */
import type { EventName } from './events.js';

/** Connection metadata we put into connect results and Centrifugo sends back on later events. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Payload {
  readonly bytes: Buffer;
  /** The same payload already parsed, when the transport had to parse it anyway (HTTP JSON mode). */
  readonly parsed?: JsonValue;
}

/** Lowercased header names → value; HTTP headers or GRPC metadata Centrifugo forwarded. */
export type Headers = ReadonlyMap<string, string>;

interface Common {
  readonly client: string;
  readonly transport: string;
  readonly protocol: string;
  readonly encoding: string;
  /** True when the request used b64data: answers then carry b64data/b64info too. */
  readonly binary: boolean;
  readonly headers: Headers;
}

interface WithIdentity extends Common {
  /** The connection's user ID ("" = anonymous). Set by Centrifugo from our connect result. */
  readonly user: string;
  /** Connection meta from our connect/refresh result (needs include_connection_meta). */
  readonly meta?: JsonValue;
}

export interface ConnectRequest extends Common {
  readonly data?: Payload;
  readonly name?: string;
  readonly version?: string;
  readonly channels?: readonly string[];
}
export type RefreshRequest = WithIdentity;
export interface SubscribeRequest extends WithIdentity {
  readonly channel: string;
  readonly data?: Payload;
}
export interface PublishRequest extends WithIdentity {
  readonly channel: string;
  readonly data?: Payload;
}
export interface SubRefreshRequest extends WithIdentity {
  readonly channel: string;
}
export interface RpcRequest extends WithIdentity {
  readonly method: string;
  readonly data?: Payload;
}

export interface ConnectResult {
  readonly user: string;
  readonly expire_at?: number;
  readonly info?: Payload;
  readonly data?: Payload;
  readonly channels?: readonly string[];
  readonly meta?: JsonValue;
}
export interface RefreshResult {
  readonly expired?: boolean;
  readonly expire_at?: number;
  readonly info?: Payload;
  readonly meta?: JsonValue;
}
export interface SubscribeResult {
  readonly expire_at?: number;
  readonly info?: Payload;
  readonly data?: Payload;
}
export interface PublishResult {
  readonly data?: Payload;
  readonly skip_history?: boolean;
}
export interface SubRefreshResult {
  readonly expired?: boolean;
  readonly expire_at?: number;
  readonly info?: Payload;
}
export interface RpcResult {
  readonly data?: Payload;
}

export interface RequestOf {
  connect: ConnectRequest;
  refresh: RefreshRequest;
  subscribe: SubscribeRequest;
  publish: PublishRequest;
  sub_refresh: SubRefreshRequest;
  rpc: RpcRequest;
}
export interface ResultOf {
  connect: ConnectResult;
  refresh: RefreshResult;
  subscribe: SubscribeResult;
  publish: PublishResult;
  sub_refresh: SubRefreshResult;
  rpc: RpcResult;
}

export type AnyRequest = RequestOf[EventName];
export type AnyResult = ResultOf[EventName];

export const jsonPayload = (value: JsonValue): Payload => ({ bytes: Buffer.from(JSON.stringify(value)) });
