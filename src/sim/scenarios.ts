/**
 * The simulator's scenarios (docs/simulation.md): static lookups, churn with replication,
 * adversarial disjoint lookups (scale runs `static` per size, src/sim/cli.ts). Each is
 * deterministic from its seed: the same options give the same figures (wall time and memory aside).
 */
export * from './scenario.js';
export { runStatic, type StaticOptions } from './static.js';
export { runAdversarial, type AdversarialOptions } from './adversarial.js';
export { runChurn, scheduleChurn, type ChurnOptions } from './churn.js';
