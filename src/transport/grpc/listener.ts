/**
 * The GRPC port's own listener, in front of grpc-js. grpc-js binds its own socket with no bound
 * on how many connections are open nor on how long one may take to start HTTP/2: a client that
 * opens thousands of TCP connections (or TLS handshakes) and sends nothing holds them forever.
 * Here each connection must send the HTTP/2 client preface (with TLS: finish the TLS handshake)
 * within grpc.handshake_timeout, and at most grpc.max_connections are open at once; only then
 * is it handed to grpc-js (its connection injector), which serves it as it would its own.
 *
 * TLS is terminated here rather than by grpc-js, so that the deadline and the cap cover the
 * handshake too; grpc-js then serves the decrypted stream through an insecure injector.
 */
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';

/** What every HTTP/2 client sends first (RFC 9113, section 3.4). */
const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** Non-empty: mutual TLS, client certificates must chain to this CA. */
  readonly client_ca: string;
}

export type RefusedConnection = 'max_connections' | 'handshake_timeout' | 'not_http2' | 'tls_failed';

export interface GrpcListenerOptions {
  readonly tls: TlsFiles;
  readonly handshakeTimeoutMs: number;
  /** 0: no cap. */
  readonly maxConnections: number;
  readonly onRefused?: (reason: RefusedConnection) => void;
}

export class GrpcListener {
  private readonly listener: NetServer;
  /** Plaintext connections that have not sent the preface yet, closed by close(). */
  private readonly starting = new Set<Socket>();
  private closing = false;

  constructor(
    grpc: GrpcServer,
    private readonly options: GrpcListenerOptions,
  ) {
    const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
    const serve = (stream: Socket) => {
      if (this.closing) stream.destroy();
      else injector.injectConnection(stream);
    };
    this.listener = options.tls.cert === '' ? this.plaintext(serve) : this.tls(options.tls, serve);
    // Answers are small writes that must leave at once (as node:http does by default): no Nagle.
    this.listener.prependListener('connection', (raw: Socket) => raw.setNoDelay(true));
    // Node closes connections over the cap as they are accepted, and says so with 'drop'.
    if (options.maxConnections > 0) this.listener.maxConnections = options.maxConnections;
    this.listener.on('drop', () => options.onRefused?.('max_connections'));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => {
        this.listener.off('error', reject);
        const address = this.listener.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /**
   * Stops accepting. Resolves once every connection has ended: those handed to grpc-js end with
   * its tryShutdown or forceShutdown, so call this beside them, not before.
   */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (!this.listener.listening) return resolve();
      this.listener.close(() => resolve());
      // Connections still starting hold no call: nothing to wait for.
      for (const socket of this.starting) socket.destroy();
    });
  }

  /** Plaintext: the preface within the deadline, or the connection is closed. */
  private plaintext(serve: (stream: Socket) => void): NetServer {
    return createTcpServer((raw) => {
      raw.on('error', () => undefined);
      this.starting.add(raw);
      const refuse = (reason: RefusedConnection) => {
        this.options.onRefused?.(reason);
        raw.destroy();
      };
      const deadline = setTimeout(() => refuse('handshake_timeout'), this.options.handshakeTimeoutMs);
      raw.once('close', () => {
        clearTimeout(deadline);
        this.starting.delete(raw);
      });
      awaitPreface(
        raw,
        () => {
          clearTimeout(deadline);
          this.starting.delete(raw);
          serve(raw);
        },
        () => refuse('not_http2'),
      );
    });
  }

  /**
   * TLS: the handshake within the deadline (Node's handshakeTimeout), then handed over. Node's
   * HTTP/2 session cannot take back bytes already read from a TLS socket, so after the
   * handshake the preface is grpc-js' to check.
   */
  private tls(files: TlsFiles, serve: (stream: Socket) => void): NetServer {
    const mutual = files.client_ca !== '';
    const server = createTlsServer({
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      ...(mutual ? { ca: readFileSync(files.client_ca), requestCert: true, rejectUnauthorized: true } : {}),
      // GRPC clients (Go's included) refuse a server that does not agree on h2.
      ALPNProtocols: ['h2'],
      handshakeTimeout: this.options.handshakeTimeoutMs,
    });
    server.on('secureConnection', (secure: TLSSocket) => {
      secure.on('error', () => undefined);
      serve(secure);
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      this.options.onRefused?.(err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake_timeout' : 'tls_failed');
      socket.destroy();
    });
    return server;
  }
}

/**
 * Reads the client preface off a plaintext socket, puts it back and calls `ready`; a stream that
 * starts with anything else calls `wrong` at once.
 */
function awaitPreface(stream: Socket, ready: (stream: Socket) => void, wrong: () => void): void {
  let received: Buffer = Buffer.alloc(0);
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = stream.read() as Buffer | null) !== null) received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const compared = Math.min(received.length, CLIENT_PREFACE.length);
    if (!received.subarray(0, compared).equals(CLIENT_PREFACE.subarray(0, compared))) {
      stream.off('readable', onReadable);
      return wrong();
    }
    if (received.length < CLIENT_PREFACE.length) return;
    stream.off('readable', onReadable);
    // Node's HTTP/2 session first reads what is already buffered on the socket.
    stream.unshift(received);
    ready(stream);
  };
  stream.on('readable', onReadable);
}
