/**
 * Prometheus metrics on a registry owned by the app (no globals, so tests can build several
 * apps). Names follow Centrifugo's own `centrifugo_proxy_*` style.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'event' | 'transport' | 'decision'>;
  readonly decisions: Counter<'event' | 'decision' | 'code'>;
  readonly inflight: Gauge<'transport'>;
  readonly badRequests: Counter<'transport' | 'reason'>;
  readonly policyInfo: Gauge<'version'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: 'cpp_request_duration_seconds',
      help: 'Time to answer one proxied event.',
      labelNames: ['event', 'transport', 'decision'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.decisions = new Counter({
      name: 'cpp_decisions_total',
      help: 'Answers given, by event, kind (result, error, disconnect) and code.',
      labelNames: ['event', 'decision', 'code'],
      registers,
    });
    this.inflight = new Gauge({ name: 'cpp_inflight_requests', help: 'Proxy requests being answered.', labelNames: ['transport'], registers });
    this.badRequests = new Counter({
      name: 'cpp_rejected_requests_total',
      help: 'Requests refused before any decision (bad input, caller authentication).',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.policyInfo = new Gauge({ name: 'cpp_policy_info', help: 'The loaded policy version (value 1).', labelNames: ['version'], registers });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
