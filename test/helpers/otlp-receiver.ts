/** A real OTLP/HTTP (JSON) trace receiver on a loopback port: keeps every span it is sent. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: OtlpSpan[];
  /** The trace's spans once `count` have arrived (or what came within 5 s). */
  spansFor(trace: string, count: number): Promise<OtlpSpan[]>;
  close(): void;
}

/** A span attribute's value, whatever its OTLP type (stringValue, intValue, boolValue…). */
export const attr = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    spans,
    async spansFor(trace, count) {
      for (let i = 0; i < 100 && spans.filter((s) => s.traceId === trace).length < count; i++) await new Promise((r) => setTimeout(r, 50));
      return spans.filter((s) => s.traceId === trace);
    },
    close: () => void server.close(),
  };
}
