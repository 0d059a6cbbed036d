/**
 * Tuning constants of the LMDB store, each with its unit and reason. Protocol-wide numbers
 * (DEFAULT_TTL, MAX_TTL, DEFAULT_STORAGE_CAP, MAX_VALUE_BYTES, EXPIRY_SWEEP_INTERVAL) live in util.
 */
import { KiB, MiB, second } from '../util/index.js';

/** Shortest lifetime a record gets: shorter TTLs are raised to this (a STORE of 0 s is useless). */
export const MIN_TTL = 1 * second;

/**
 * Room in the default map size above twice the cap: LMDB's B-tree pages, the meta and expiry
 * tables and copy-on-write pages not yet reused all live beside the values themselves.
 */
export const MAP_SIZE_SLACK = 64 * MiB;

/** Smallest accepted `mapSize`: 16 pages of 4 KiB, enough for the empty tables and a record. */
export const MIN_MAP_SIZE = 64 * KiB;

/**
 * Expired records removed per write transaction by a sweep. Bounded so a sweep of a million
 * expired records never holds LMDB's single write lock for long.
 */
export const SWEEP_BATCH = 1000;

/** Largest blob `putNodeState` accepts (a routing snapshot is a few KiB). */
export const MAX_NODE_STATE_BYTES = 16 * MiB;

/** Longest node-state name, in characters (LMDB keys are at most 1,978 bytes). */
export const MAX_NODE_STATE_NAME = 256;

/** The origin of the node's own publications: exempt from the per-source quota and never evicted. */
export const SELF_SOURCE = 'self';
