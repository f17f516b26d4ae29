/**
 * Every event the service answers. Both transports derive their routes and methods from this
 * list: a new event is a handler file plus one line here.
 */
import { GRPC_METHOD, type EventName } from '../core/events.js';
import { connectHandler } from './connect.js';
import type { Handler, HandlerDeps } from './handler.js';
import { publishHandler } from './publish.js';
import { refreshHandler } from './refresh.js';
import { rpcHandler } from './rpc.js';
import { subRefreshHandler } from './sub-refresh.js';
import { subscribeHandler } from './subscribe.js';

export type Handlers = { readonly [E in EventName]: Handler<E> };

export function createHandlers(deps: HandlerDeps): Handlers {
  return {
    connect: connectHandler(deps),
    refresh: refreshHandler(deps),
    subscribe: subscribeHandler(deps),
    publish: publishHandler(deps),
    sub_refresh: subRefreshHandler(deps),
    rpc: rpcHandler(deps),
  };
}

export interface EventRoute {
  readonly event: EventName;
  /** HTTP path below http.base_path. */
  readonly httpPath: string;
  readonly grpcMethod: string;
}

export const EVENT_ROUTES: readonly EventRoute[] = (Object.keys(GRPC_METHOD) as EventName[]).map((event) => ({
  event,
  httpPath: `/${event}`,
  grpcMethod: GRPC_METHOD[event],
}));
