/** Iterative FIND_NODE / FIND_VALUE: a sans-IO state machine and a driver for it. */
export * from './lookup.js';
export * from './drive.js';
export * from './disjoint.js';
