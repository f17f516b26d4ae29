/**
 * pino JSON lines; secrets and payloads never reach a log line, whatever a caller passes.
 * Lines written inside a traced request carry trace_id/span_id: the request's child logger
 * (core/instrument.ts) and the decision log add them from the request's trace context.
 */
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
    // "warn", not 40: operators filter and alert on names.
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
