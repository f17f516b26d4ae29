/**
 * The latest disagreements between the live and the candidate policy, for the policy page: a
 * fixed-size ring, so a candidate that disagrees on every request costs bounded memory. Holds
 * the policy question only (user, roles, action, object), as the decision log does.
 */
import type { PolicyQuery } from './engine.js';

export interface Disagreement {
  readonly at: string;
  readonly user: string;
  readonly roles: readonly string[];
  readonly action: string;
  readonly object: string;
  readonly live: 'allow' | 'deny';
  readonly candidate: 'allow' | 'deny';
  readonly policy_version: string;
  readonly candidate_version: string;
}

export class DisagreementRing {
  private readonly slots: Disagreement[] = [];
  private next = 0;
  private seen = 0;

  constructor(readonly capacity: number) {}

  record(query: PolicyQuery, live: boolean, candidate: boolean, versions: { live: string; candidate: string }, at: Date): void {
    const entry: Disagreement = {
      at: at.toISOString(),
      user: query.user,
      roles: [...query.roles],
      action: query.action,
      object: query.object,
      live: live ? 'allow' : 'deny',
      candidate: candidate ? 'allow' : 'deny',
      policy_version: versions.live,
      candidate_version: versions.candidate,
    };
    this.slots[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.seen++;
  }

  /** Newest first. */
  latest(): Disagreement[] {
    const ordered = [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)];
    return ordered.reverse();
  }

  /** Every disagreement recorded since start, including those the ring no longer holds. */
  total(): number {
    return this.seen;
  }
}
