/**
 * Token mode's wiring, kept out of the composition root: from the config and the app's shared
 * pieces (the connect authenticator, the decider, revocations, metrics) to the express routes
 * and what stop() must close. Nothing is built when token_mode.enabled is false.
 */
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { RevocationList } from '../auth/revocations.js';
import type { Config } from '../config/schema.js';
import type { Decider } from '../policy/decider.js';
import type { Metrics } from '../telemetry/metrics.js';
import { ApiKeys } from './api-keys.js';
import { CentrifugoApi } from './centrifugo-api.js';
import { TokenMinter } from './minter.js';
import { fixedWindow } from './rate-limit.js';
import { tokenRouter, type Publisher } from './routes.js';
import { createSigner } from './signer.js';

export interface TokenModeDeps {
  readonly config: Config;
  readonly authenticator: Authenticator;
  readonly decider: Decider;
  readonly revocations: RevocationList;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
}

export interface TokenMode {
  readonly router: Router;
  close(): Promise<void>;
}

export function buildTokenMode(deps: TokenModeDeps): TokenMode | undefined {
  const { config } = deps;
  const mode = config.token_mode;
  if (!mode.enabled) return undefined;
  const signer = createSigner(mode.connection);
  const minter = new TokenMinter({ config, authenticator: deps.authenticator, decider: deps.decider, revocations: deps.revocations, signer, now: deps.now });
  let publisher: Publisher | undefined;
  if (mode.publish.api_keys.length > 0) {
    publisher = {
      keys: new ApiKeys(mode.publish.api_keys),
      maxChannels: mode.publish.max_channels,
      api: new CentrifugoApi({
        url: mode.publish.centrifugo_url,
        apiKey: mode.publish.centrifugo_api_key,
        timeoutMs: mode.publish.timeout,
        onAttempt: (method, status, seconds) => deps.metrics.centrifugoApiDuration.observe({ method, status }, seconds),
      }),
    };
  }
  const router = tokenRouter({
    minter,
    signer,
    limiter: fixedWindow(mode.rate_limit.requests, mode.rate_limit.window, deps.now),
    corsOrigins: mode.cors_origins,
    decider: deps.decider,
    publisher,
    bodyLimit: config.http.body_limit,
    metrics: deps.metrics,
    log: deps.log,
    includeUser: config.telemetry.include_user,
  });
  deps.log.info(
    { algorithm: signer.algorithm, publish_keys: publisher?.keys.size ?? 0, cors_origins: mode.cors_origins.length },
    'token mode on: /api/token, /api/subscription-token' + (publisher ? ', /api/publish, /api/broadcast' : ''),
  );
  return { router, close: async () => publisher?.api.close() };
}
