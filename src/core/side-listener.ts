/**
 * Slow-client bounds for the small listeners beside the proxy ports (admin, policy page):
 * their clients (probes, scrapers, a browser) send small requests at once, so a connection
 * still sending its headers or body after a few seconds is a slow client holding a socket.
 */
import type { ServerOptions } from 'node:http';

export const SIDE_LISTENER_TIMEOUT_MS = 10_000;

export function sideListenerOptions(timeoutMs = SIDE_LISTENER_TIMEOUT_MS): ServerOptions {
  return {
    headersTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    // Node checks the two timeouts every 30 s by default, which would let a slow client stay 4× longer.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))),
  };
}
