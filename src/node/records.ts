/**
 * Verified node records, one per peer. Records arrive in session handshakes, where the worker
 * pool checked their signature and derived the id from their ML-DSA key (id = BLAKE3(public
 * key)); a record here is therefore one its key holder signed. Bounded, least recently used out.
 */
import type { NodeRecord } from '../crypto/index.js';
import type { Id } from '../id/index.js';
import { idToHex } from '../id/index.js';

/** Records kept at most (least recently used dropped first). */
const MAX_CACHED = 10_000;

/** Counters of the record cache. */
export interface RecordCounters {
  /** Records taken from verified handshakes (new or newer). */
  verified: number;
  cacheHits: number;
  /** Records that replaced an older one of the same node (higher seq). */
  updated: number;
  /** Records not taken because the cached one of that node has a higher seq. */
  stale: number;
}

/** The cache of verified peer records. */
export class RecordBook {
  readonly #cache = new Map<string, NodeRecord>();
  readonly counters: RecordCounters = { verified: 0, cacheHits: 0, updated: 0, stale: 0 };

  /** Keeps a verified record, unless a newer one of the same node is cached. */
  add(record: NodeRecord): void {
    const key = idToHex(record.id);
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.seq > record.seq) {
      this.counters.stale++;
      return;
    }
    if (cached !== undefined) this.counters.updated++;
    this.counters.verified++;
    this.#cache.delete(key);
    this.#cache.set(key, record);
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
  }

  /** The verified record of `id`, if cached. */
  get(id: Id): NodeRecord | undefined {
    const key = idToHex(id);
    const record = this.#cache.get(key);
    if (record === undefined) return undefined;
    this.counters.cacheHits++;
    this.#cache.delete(key);
    this.#cache.set(key, record); // most recently used last
    return record;
  }

  /** Records cached now. */
  get size(): number {
    return this.#cache.size;
  }
}
