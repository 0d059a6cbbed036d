/** Shared utilities: constants, errors, clock, randomness, bytes, logging. */
export * from './constants.js';
export * from './errors.js';
export * from './clock.js';
export * from './random.js';
export * from './bytes.js';
export * from './log.js';
export * from './address.js';
