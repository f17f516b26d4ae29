/** What /readyz and the GRPC health service report. */
export class AppState {
  private listening = { http: false, grpc: false };
  private draining = false;
  private readonly conditions: Array<() => string | undefined> = [];

  constructor(
    private readonly grpcEnabled: boolean,
    private readonly policyLoaded: () => boolean,
    /** Extra facts for /readyz (policy version, last refused reload): shown, never a reason to be unready. */
    readonly details: () => Record<string, unknown> = () => ({}),
  ) {}

  markListening(transport: 'http' | 'grpc'): void {
    this.listening[transport] = true;
  }

  /** One more thing that must hold before the service is ready; `check` returns why not, or undefined. */
  require(check: () => string | undefined): void {
    this.conditions.push(check);
  }

  markDraining(): void {
    this.draining = true;
  }

  /** Why the service is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'shutting down';
    if (!this.policyLoaded()) return 'policy not loaded';
    if (!this.listening.http) return 'http server not listening';
    if (this.grpcEnabled && !this.listening.grpc) return 'grpc server not listening';
    for (const check of this.conditions) {
      const reason = check();
      if (reason) return reason;
    }
    return undefined;
  }
}
