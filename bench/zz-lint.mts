import { benchPolicy } from './policy.js';
import { lintRules } from '../src/policy/lint.js';
const g = benchPolicy(12, 100_000);
const t = performance.now();
lintRules(g.source.rules);
console.log('100k lint', ((performance.now() - t) / 1000).toFixed(1), 's');
