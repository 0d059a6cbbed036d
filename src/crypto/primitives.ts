/**
 * The pure crypto functions, without the pool: what the worker module imports (it must not load
 * the pool client, which would start threads inside a thread).
 */
export * from './blake3.js';
export * from './mldsa.js';
export * from './record.js';
export * from './handshake.js';
export * from './aead.js';
export * from './kemwrap.js';
