/** Replication: placement, republish, repair and storage audits (docs/replication.md). */
export * from './audit.js';
export * from './placement.js';
export * from './repair.js';
