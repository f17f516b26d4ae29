/**
 * Draining the HTTP server without resetting requests (see ../drain.ts for the steps).
 *
 * Node 20's `server.close()` destroys idle keep-alive connections at once (a request already in
 * their socket buffer then gets ECONNRESET) and leaves busy ones keep-alive after their answer
 * (so they stay open, with our 650 s keepAliveTimeout, until the drain timeout cuts them). Here
 * every answer written once draining has begun says `connection: close`, which also covers
 * calls that were in flight when it began.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Drainable } from '../drain.js';

export class HttpDrain implements Drainable {
  private draining = false;
  /** createServer's `ServerResponse` option: answers close their connection once draining. */
  readonly Response: typeof ServerResponse<IncomingMessage>;
  private server: Server | undefined;

  constructor() {
    const isDraining = () => this.draining;
    const writeHead = ServerResponse.prototype.writeHead;
    class ClosingResponse extends ServerResponse<IncomingMessage> {}
    // Every head goes through writeHead (implicit heads too), and Node reads shouldKeepAlive
    // right there: false writes `connection: close` and ends the socket after this answer.
    ClosingResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (isDraining()) this.shouldKeepAlive = false;
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof writeHead;
    this.Response = ClosingResponse;
  }

  attach(server: Server): void {
    this.server = server;
  }

  get active(): boolean {
    return this.draining;
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
