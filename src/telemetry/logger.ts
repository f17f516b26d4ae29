/** pino JSON lines; secrets and payloads never reach a log line, whatever a caller passes. */
import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'token',
  '*.token',
  'data',
  '*.data',
  'b64data',
  '*.b64data',
  'meta',
  '*.meta',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'headers',
  '*.headers',
  'secret',
  '*.secret',
  '*.hmac_secret',
  '*.*.hmac_secret',
  'caller_auth',
  '*.caller_auth',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'centrifugo-policy-proxy' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Log lines written inside a traced request carry its ids (the decision log relies on it).
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
