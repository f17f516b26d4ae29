/** The policy page as the composition root sees it: built from config, started and stopped with the app. */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { DisagreementRing } from '../../policy/disagreements.js';
import type { PolicyQuery } from '../../policy/engine.js';
import type { PolicyStore } from '../../policy/policy-store.js';
import { PageAccess } from './access.js';
import { PolicyPageAnswers } from './answers.js';
import { closePolicyPage, listenPolicyPage, policyPageApp } from './server.js';

export interface PolicyPageDeps {
  readonly config: Config;
  readonly policy: PolicyStore;
  readonly candidate?: PolicyStore;
  readonly log: Logger;
  readonly now: () => number;
}

export class PolicyPage {
  private readonly disagreements: DisagreementRing;
  private server: Server | undefined;

  constructor(private readonly deps: PolicyPageDeps) {
    this.disagreements = new DisagreementRing(deps.config.policy_page.disagreements);
  }

  /** Called by the decider for each request the candidate answers differently. */
  recordDisagreement(query: PolicyQuery, live: boolean, candidate: boolean, versions: { live: string; candidate: string }): void {
    this.disagreements.record(query, live, candidate, versions, new Date(this.deps.now()));
  }

  async start(): Promise<number> {
    const { config, policy, candidate, log, now } = this.deps;
    const answers = new PolicyPageAnswers({ policy, candidate, disagreements: this.disagreements, policyConfig: config.policy });
    const access = new PageAccess(config.policy_page.token, now);
    const app = policyPageApp({ answers, access, log });
    const { server, port } = await listenPolicyPage(app, config.policy_page.host, config.policy_page.port);
    this.server = server;
    log.info({ policy_page: `http://${config.policy_page.host.includes(':') ? `[${config.policy_page.host}]` : config.policy_page.host}:${port}/`, token: access.protected }, 'policy page listening');
    return port;
  }

  async stop(): Promise<void> {
    if (this.server) await closePolicyPage(this.server);
    this.server = undefined;
  }
}

/** The page when policy_page.enabled, else undefined. */
export const buildPolicyPage = (deps: PolicyPageDeps): PolicyPage | undefined => (deps.config.policy_page.enabled ? new PolicyPage(deps) : undefined);

