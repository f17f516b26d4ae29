/**
 * The abort signal of one upstream attempt: it fires when the attempt's time is up or when our
 * caller (Centrifugo) goes away, and remembers which of the two it was.
 *
 * The timer is a plain setTimeout we hold and clear, not `AbortSignal.timeout()` combined with
 * `AbortSignal.any()`: on Node 20 a timeout signal referenced only by `AbortSignal.any` can be
 * garbage-collected, and then it never fires (a hanging upstream then holds the call, its
 * concurrency slot and a breaker probe for as long as the upstream likes).
 */
export type AbortCause = 'timeout' | 'caller';

export class AttemptSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private why: AbortCause | undefined;

  constructor(
    private readonly caller: AbortSignal,
    ms: number,
  ) {
    this.timer = setTimeout(() => this.abort('timeout'), ms);
    if (caller.aborted) this.abort('caller');
    else caller.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the attempt was aborted; undefined while it was not. */
  get cause(): AbortCause | undefined {
    return this.why;
  }

  /** The attempt is over (answered or failed): stop the timer and stop listening to the caller. */
  done(): void {
    clearTimeout(this.timer);
    this.caller.removeEventListener('abort', this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => this.abort('caller');

  private abort(cause: AbortCause): void {
    if (this.why) return;
    this.why = cause;
    this.done();
    this.controller.abort(cause === 'timeout' ? new DOMException('upstream attempt timed out', 'TimeoutError') : new DOMException('caller went away', 'AbortError'));
  }
}
