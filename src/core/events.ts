/** The six client events Centrifugo proxies, spelled as Centrifugo spells them (logs, metrics, URLs). */
export const EVENTS = ['connect', 'refresh', 'subscribe', 'publish', 'sub_refresh', 'rpc'] as const;
export type EventName = (typeof EVENTS)[number];

/** GRPC method of CentrifugoProxy for each event. */
export const GRPC_METHOD: Record<EventName, string> = {
  connect: 'Connect',
  refresh: 'Refresh',
  subscribe: 'Subscribe',
  publish: 'Publish',
  sub_refresh: 'SubRefresh',
  rpc: 'RPC',
};
