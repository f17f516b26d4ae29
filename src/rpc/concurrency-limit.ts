/** How many calls a route may have in flight; one over the limit is refused at once (429), never queued. */
export class ConcurrencyLimit {
  private inFlight = 0;

  constructor(readonly max: number) {}

  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight += 1;
    return true;
  }

  release(): void {
    this.inFlight -= 1;
  }
}
