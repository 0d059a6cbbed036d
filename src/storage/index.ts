/**
 * Storage: the LMDB-backed value store with a byte cap, TTL expiry and node-level state.
 * This file is the folder's only public face.
 */
export { Store } from './store.js';
export type { StoreInit } from './options.js';
export type { PutDecision, PutInput, PutOutcome, RecordMeta, StoredEntry, StoredValue, StoreStats } from './types.js';
export { sourceOf } from './codec.js';
export { MIN_TTL, MAP_SIZE_SLACK, MIN_MAP_SIZE, SWEEP_BATCH, MAX_NODE_STATE_BYTES, MAX_NODE_STATE_NAME, SELF_SOURCE } from './constants.js';
