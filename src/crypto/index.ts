/**
 * Crypto: BLAKE3 (plain, keyed, derive-key, streaming), ML-DSA-65 / ML-KEM-768 identity and
 * signed node records, and the Piscina worker pool that runs everything heavy.
 */
export * from './primitives.js';
export * from './pool.js';
export * from './identity.js';
