/**
 * Decision deadlines without a timer per request. Every request of one event has the same
 * timeout, so deadlines arrive in order: a FIFO queue swept by one coarse interval finds the
 * expired ones at its front. A setTimeout/clearTimeout pair per request measured as a large
 * share of a cached decision; this is an array push and a flag.
 */
export interface Deadline {
  /** Call when the work finished in time: the deadline will not fire. */
  done(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  finished: boolean;
  readonly expire: () => void;
}

export class DeadlineQueue {
  private queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** @param resolutionMs how late a deadline may fire at most (the sweep interval). */
  constructor(private readonly resolutionMs = 20) {}

  /** Calls `expire` once, about `ms` from now (never earlier), unless `done()` comes first. */
  add(ms: number, expire: () => void): Deadline {
    const entry: Entry = {
      at: performance.now() + ms,
      finished: false,
      expire,
      done() {
        this.finished = true;
      },
    };
    this.queue.push(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.resolutionMs);
      this.timer.unref();
    }
    return entry;
  }

  private sweep(): void {
    const now = performance.now();
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      if (!entry.finished && entry.at > now) break;
      this.head += 1;
      if (!entry.finished) {
        entry.finished = true;
        entry.expire();
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
