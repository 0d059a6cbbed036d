/**
 * A simulated node's store: records in memory with the metadata the replicator reads (the
 * ReplicaStore subset of storage/Store), listed in key order like LMDB lists them. No quota, no
 * disk: the simulator studies placement and repair, not storage limits.
 */
import type { Key } from '../id/index.js';
import { idToHex } from '../id/index.js';
import type { ReplicaStore } from '../replication/index.js';
import type { RecordMeta, StoredEntry, StoredValue } from '../storage/index.js';

interface Held {
  readonly key: Key;
  value: Uint8Array;
  meta: RecordMeta;
}

/** Records held by one simulated node. */
export class SimRecords implements ReplicaStore {
  readonly #byKey = new Map<string, Held>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Holds `value` under `key` (a newer STORE refreshes the TTL and keeps storedAt). */
  put(key: Key, value: Uint8Array, meta: Omit<RecordMeta, 'storedAt'>): void {
    const hex = idToHex(key);
    const old = this.#byKey.get(hex);
    const storedAt = old === undefined || old.meta.expiresAt <= this.#now() ? this.#now() : old.meta.storedAt;
    // A cached copy never lowers the replication factor of a record held as a replica.
    const replicas = old !== undefined && meta.replicas === 0 ? old.meta.replicas : meta.replicas;
    this.#byKey.set(hex, { key, value, meta: { ...meta, replicas, storedAt } });
  }

  /** The live record under `key`. */
  getCopy(key: Key): StoredValue | undefined {
    const held = this.#byKey.get(idToHex(key));
    if (held === undefined || held.meta.expiresAt <= this.#now()) return undefined;
    return { ...held.meta, value: held.value };
  }

  has(key: Key): boolean {
    return this.getCopy(key) !== undefined;
  }

  /** Live records in key order, from `from` on (inclusive) when given. */
  *entries(from?: Key): Generator<StoredEntry> {
    const now = this.#now();
    const start = from === undefined ? '' : idToHex(from);
    const live = [...this.#byKey.entries()].filter(([hex, h]) => h.meta.expiresAt > now && hex >= start).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (const [, h] of live) yield { ...h.meta, key: h.key };
  }

  get size(): number {
    return this.#byKey.size;
  }
}
