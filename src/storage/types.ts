/**
 * The shapes the store reads and writes: a record's metadata, what `get` returns, what `put`
 * takes, and the counters `stats` reports. Times are milliseconds on the store's clock.
 */
import type { Key } from '../id/index.js';
import type { DhtError } from '../util/index.js';
import type { ValueKind } from '../wire/index.js';

/** What `put` did: `stored` a new or different value, or `refreshed` identical bytes' expiry. */
export type PutOutcome = 'stored' | 'refreshed';

/** One STORE: the value is copied when `put` is called, so the caller may reuse its buffer. */
export interface PutInput {
  readonly key: Key;
  readonly value: Uint8Array;
  /** Requested lifetime in milliseconds, clamped to [MIN_TTL, MAX_TTL]. */
  readonly ttl: number;
  /** Who asked: `host:port` of the peer, or `self` for the node's own publications. */
  readonly origin: string;
  /** How the value was checked (immutable content, signed mutable record, set). Default IMMUTABLE. */
  readonly kind?: ValueKind;
  /** Replication factor the publisher asked for (3..12; 0 = a cached copy). Default 3. */
  readonly replicas?: number;
  /**
   * Decides, inside the write transaction, what to do given the live record under the key (or
   * null): store `value` (or the input's value), refresh the stored record's expiry, or refuse.
   * Runs synchronously, so concurrent writes to one key cannot interleave between read and write
   * (a mutable record's seq check, a set's merge). Without it, identical bytes are refreshed and
   * anything else replaces the stored value. A `refresh` with nothing live stores the input.
   */
  readonly decide?: (stored: StoredValue | null) => PutDecision;
}

/** What a `decide` callback chose. */
export type PutDecision =
  | { readonly action: 'store'; readonly value?: Uint8Array }
  | { readonly action: 'refresh' }
  | { readonly action: 'refuse'; readonly error: DhtError };

/** Metadata kept beside each value. */
export interface RecordMeta {
  /** When the current value was first stored (a refresh does not move it). */
  readonly storedAt: number;
  /** The record is absent from `now >= expiresAt` on, and swept after that. */
  readonly expiresAt: number;
  /** Value length in bytes: what the cap counts. */
  readonly size: number;
  /** The origin given to the `put` that stored the current value. */
  readonly origin: string;
  /** What kind of value it is (ValueKind). */
  readonly kind: ValueKind;
  /** Replication factor the publisher asked for (0 for a cached copy). */
  readonly replicas: number;
}

/**
 * A live record as `get` returns it. From `get`, `value` is a zero-copy view that is valid only
 * until the next read of any LMDB database in this process (or the next write); `getCopy`
 * returns a `value` that the caller owns.
 */
export interface StoredValue extends RecordMeta {
  readonly value: Uint8Array;
}

/** A live record's key and metadata, as `entries()` lists them (read the value with `getCopy`). */
export interface StoredEntry extends RecordMeta {
  readonly key: Key;
}

/** Occupancy and counters of a store. */
export interface StoreStats {
  /** Records on disk, including expired ones the next sweep will remove. */
  records: number;
  /** Sum of the stored values' sizes: what `capBytes` limits. */
  bytes: number;
  capBytes: number;
  /** bytes / capBytes, at most 1 (a store reopened with a smaller cap may hold more). */
  utilization: number;
  /** Ceiling on the pages LMDB may use, in bytes. */
  mapSize: number;
  /** Expired records removed since open (by `sweep` or to make room for a `put`). */
  swept: number;
  /** Writes refused with STORAGE_FULL (cap, map size or disk). */
  refusedFull: number;
  /** Writes refused with VALUE_TOO_BIG. */
  refusedTooBig: number;
  /** Automatic sweeps that failed (the next one retries). */
  sweepFailures: number;
  /** Writes refused because their source is over its per-source quota. */
  refusedQuota: number;
  /** Records removed to make room at the global cap (the oldest of the heaviest source). */
  evicted: number;
  /** Bytes each source holds (host, or `self`), heaviest first, at most 20 listed. */
  sources: Array<{ source: string; bytes: number; records: number }>;
  /** Per-source quota in bytes. */
  perSourceBytes: number;
}
