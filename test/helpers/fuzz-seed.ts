/**
 * Seed and run count of the fuzz tests: FUZZ_SEED reproduces a run (the seed is printed),
 * FUZZ_RUNS sets the number of inputs per test (`npm run fuzz` raises it).
 */
export function fuzzSettings(name: string, defaultRuns: number): { seed: number; runs: number } {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  console.log(JSON.stringify({ fuzz: name, seed, runs, reproduce: `FUZZ_SEED=${seed} FUZZ_RUNS=${runs}` }));
  return { seed, runs };
}

/** Runs `work` over items with `concurrency` at once (fuzz inputs are independent). */
export async function eachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i] as T, i);
      }
    }),
  );
}
