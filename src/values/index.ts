/**
 * Values beyond plain content-addressed blobs: signed mutable records (BEP 44 with ML-DSA-65),
 * multi-writer signed sets, and manifests of chunked large content, with their limits.
 */
export * from './limits.js';
export * from './mutable.js';
export * from './set.js';
export * from './manifest.js';
