/**
 * Sharing the event loop while a policy (re)loads. Every decision runs on the same thread as the
 * reload, so 100,000 rules read, indexed, tested and linted in one stretch would hold every
 * request for a second or more. Long loops check the clock now and then and, once a slice has
 * run longer than SLICE_MS, let the event loop answer what is waiting before they go on.
 *
 * Loops that also have synchronous callers (lint, the policy test cases: `check`, the policy
 * page) are written once as generators that `yield` between small steps; runAtOnce and
 * runInSlices decide whether those steps run in one go or in slices. The results are the same:
 * the generator alone decides what is computed, the runner only when.
 */

/** Work between two yields: a request waits at most about this long (plus one step). */
export const SLICE_MS = 2;

export class TimeSlices {
  private sliceStart = performance.now();

  constructor(private readonly budgetMs = SLICE_MS) {}

  /** True once this slice has run longer than the budget. Reads the clock: call it every few dozen steps. */
  spent(): boolean {
    return performance.now() - this.sliceStart > this.budgetMs;
  }

  /** Lets the event loop run (timers, sockets, waiting requests), then starts a new slice. */
  async next(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}

/** A computation that yields between steps of at most a few tens of microseconds each. */
export type Steps<T> = Generator<void, T, void>;

/**
 * Loops whose items take a microsecond or two (one rule of a lint pass) yield once every this
 * many items: every yield allocates an iterator result, and yielding per rule made a 100k-rule
 * lint allocate about a million of them (38 MiB, three of its twenty scavenges).
 */
export const ITEMS_PER_STEP = 4;

/** True on the items after which a light loop yields (see ITEMS_PER_STEP). */
export const stepDue = (index: number): boolean => index % ITEMS_PER_STEP === 0;

/** How many steps run between two looks at the clock. */
const STEPS_PER_CHECK = 32;

/** Runs every step now, in one synchronous stretch. */
export function runAtOnce<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs the steps, yielding to the event loop whenever a slice has used its budget. */
export async function runInSlices<T>(steps: Steps<T>, slices = new TimeSlices()): Promise<T> {
  for (let count = 1; ; count++) {
    const step = steps.next();
    if (step.done) return step.value;
    if (count % STEPS_PER_CHECK === 0 && slices.spent()) await slices.next();
  }
}
