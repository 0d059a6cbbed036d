/**
 * Store options: plain values with defaults from the constants, validated at the boundary with
 * errors that name the option (piscina's style), so a misconfigured node fails at start.
 */
import {
  type Clock,
  DEFAULT_STORAGE_CAP,
  MAX_VALUE_BYTES,
  systemClock,
} from '../util/index.js';
import { MAP_SIZE_SLACK, MIN_MAP_SIZE } from './constants.js';

/** Options of `Store.open`. */
export interface StoreInit {
  /** Directory of the LMDB environment; created if missing. */
  path: string;
  /** Time source for storedAt / expiresAt and the sweep timer. Default: the system clock. */
  clock?: Clock;
  /** Cap on the sum of stored value sizes, in bytes. Default: DEFAULT_STORAGE_CAP (1 GiB). */
  capBytes?: number;
  /** Largest single value, in bytes. Default: MAX_VALUE_BYTES (256 KiB). */
  maxValueBytes?: number;
  /**
   * Ceiling on the database size, in bytes. lmdb-js grows its memory map on demand, so the store
   * enforces this itself and refuses writes past it with STORAGE_FULL.
   * Default: 2 × capBytes + MAP_SIZE_SLACK (64 MiB).
   */
  mapSize?: number;
  /**
   * Bytes one source (the IP of the peer that stored them) may hold; the node's own publications
   * are exempt. Default: capBytes / 8 (T23; OpenDHT caps each IP likewise).
   */
  perSourceBytes?: number;
}

/** StoreInit with every default filled in. */
export interface StoreOptions {
  readonly path: string;
  readonly clock: Clock;
  readonly capBytes: number;
  readonly maxValueBytes: number;
  readonly mapSize: number;
  readonly perSourceBytes: number;
}

/** Validates `init` and fills in defaults; throws TypeError / RangeError naming the option. */
export function resolveStoreOptions(init: StoreInit): StoreOptions {
  if (typeof init !== 'object' || init === null) throw new TypeError('options must be an object');
  if (typeof init.path !== 'string' || init.path.length === 0) {
    throw new TypeError('options.path must be a non-empty string');
  }
  const clock = init.clock ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.setInterval !== 'function') {
    throw new TypeError('options.clock must be a Clock (now, setTimeout, setInterval)');
  }
  const capBytes = positiveInteger('capBytes', init.capBytes ?? DEFAULT_STORAGE_CAP, 1);
  const maxValueBytes = positiveInteger('maxValueBytes', init.maxValueBytes ?? MAX_VALUE_BYTES, 1);
  const mapSize = positiveInteger('mapSize', init.mapSize ?? 2 * capBytes + MAP_SIZE_SLACK, MIN_MAP_SIZE);
  const perSourceBytes = positiveInteger('perSourceBytes', init.perSourceBytes ?? Math.max(1, Math.floor(capBytes / 8)), 1);
  return { path: init.path, clock, capBytes, maxValueBytes, mapSize, perSourceBytes };
}

function positiveInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const floor = min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
    throw new RangeError(`options.${name} must be ${floor} (bytes)`);
  }
  return value;
}
