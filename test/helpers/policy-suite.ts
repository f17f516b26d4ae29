/**
 * The policy unit tests in one process, for `npm run mutation` (StrykerJS runs this once per
 * mutant; one process saves a TypeScript loader start per test file).
 */
import '../unit/policy-boundaries.test.js';
import '../unit/object-pattern.test.js';
import '../unit/role-names.test.js';
import '../unit/indexed-engine.test.js';
import '../unit/policy-build-slices.test.js';
import '../unit/policy-model-shape.test.js';
