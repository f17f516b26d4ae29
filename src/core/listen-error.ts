/**
 * A listener that could not bind, said in the operator's terms: which listener, which config key
 * and which environment variable the bundled config reads for it. Node's and grpc-js's own
 * messages name only an address (grpc-js buries EADDRINUSE inside "No address added").
 */
export type Listener = 'http' | 'grpc' | 'admin';

const ENV_NAME: Partial<Record<Listener, string>> = { http: 'HTTP_PORT', grpc: 'GRPC_PORT' };

export class ListenError extends Error {
  constructor(
    readonly listener: Listener,
    readonly host: string,
    readonly port: number,
    readonly original: Error,
  ) {
    super(ListenError.describe(listener, host, port, original));
  }

  private static describe(listener: Listener, host: string, port: number, original: Error): string {
    const env = ENV_NAME[listener];
    const fix = env ? `choose another with ${env} (bundled config) or ${listener}.port` : `choose another with ${listener}.port`;
    if (/EADDRINUSE/.test(`${(original as NodeJS.ErrnoException).code ?? ''} ${original.message}`)) {
      return `${listener}.port ${port} is already in use on ${host} (another process listens there): ${fix}`;
    }
    if (/EACCES/.test(`${(original as NodeJS.ErrnoException).code ?? ''} ${original.message}`)) {
      return `${listener}.port ${port} on ${host} needs privileges this process lacks: ${fix}`;
    }
    return `${listener} listener on ${host}:${port} failed: ${original.message}`;
  }
}
