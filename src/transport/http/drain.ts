/**
 * Draining the HTTP server without resetting requests (see ../drain.ts for the steps).
 *
 * Node 20's `server.close()` destroys idle keep-alive connections at once (a request already in
 * their socket buffer then gets ECONNRESET) and leaves busy ones keep-alive after their answer
 * (so they stay open, with our 650 s keepAliveTimeout, until the drain timeout cuts them). Here
 * every answer written once draining has begun says `connection: close` (`closeIfDraining`
 * before its head), which also covers calls that were in flight when it began.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Drainable } from '../drain.js';

export class HttpDrain implements Drainable {
  private draining = false;
  private server: Server | undefined;

  /**
   * Called before every head the server writes. Node reads shouldKeepAlive when the head is
   * written: false sends `connection: close` and ends the socket after this answer. (A
   * ServerResponse subclass overriding writeHead did this for every answer, but cost the
   * hot path on every request.)
   */
  closeIfDraining(res: ServerResponse): void {
    if (this.draining) res.shouldKeepAlive = false;
  }

  attach(server: Server): void {
    this.server = server;
  }

  beginDrain(): void {
    this.draining = true;
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    // Stops accepting and closes the connections idle now; the others close after their answer.
    return new Promise((resolve) => server.close(() => resolve()));
  }

  forceClose(): void {
    this.server?.closeAllConnections();
  }
}
