// RSS of the service as deployed (`npm start` runs the compiled dist/, no tsx): the service's
// modules loaded, then 100,000 rules indexed and 100,000 decisions cached. Plain JavaScript so
// that no TypeScript loader sits in the measured process. Args: model file, policy file.
import process from 'node:process';
import '../../dist/app.js';
import { TieredDecisionCache } from '../../dist/cache/decision-cache.js';
import { cacheKey } from '../../dist/policy/decider.js';
import { buildEngine } from '../../dist/policy/policy-store.js';

const [model, policy] = process.argv.slice(2);
globalThis.gc?.();
const before = process.memoryUsage().rss;
const engine = await buildEngine({ model, policy });
const cache = new TieredDecisionCache({ maxEntries: 100_000, ttlMs: 3_600_000 });
for (let n = 0; n < 100_000; n++) {
  // Distinct questions, so every one of the 100,000 decisions is its own cache entry.
  const query = { user: `user-${n % 10_000}`, roles: ['role:r1'], action: 'subscribe', object: `ns${n % 50}:room${n}` };
  await cache.lookup(cacheKey(engine.version, query), () => engine.decide(query));
}
globalThis.gc?.();
process.send?.({ before, after: process.memoryUsage().rss });
process.exit(0);
