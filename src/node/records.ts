/**
 * Verified node records, one per peer: fetched with GET_RECORD, checked in the worker pool
 * (signature valid, id = BLAKE3(ML-DSA public key) = the id the peer claims), then cached, so
 * each peer costs one verification. A peer that fails never enters the routing table.
 */
import type { CryptoPool, NodeRecord } from '../crypto/index.js';
import type { Contact } from '../id/index.js';
import { idEquals, idToHex } from '../id/index.js';
import type { Rpc } from '../rpc/index.js';
import { WIRE_LIMITS } from '../wire/index.js';

/** Records kept at most (least recently used dropped first). */
const MAX_CACHED = 10_000;
/** Record fetches in flight at most; more candidates wait until they are offered again. */
const MAX_IN_FLIGHT = 32;
/** A peer whose record failed is not fetched or verified again for this long (ms). */
const REJECTED_FOR = 10 * 60_000;

/** Outcomes of record checks. */
export interface RecordCounters {
  verified: number;
  cacheHits: number;
  /** Bad signature or malformed record. */
  invalid: number;
  /** Valid record, but its key does not hash to the id the peer claims. */
  idMismatch: number;
  fetchFailures: number;
  /** Candidates skipped because MAX_IN_FLIGHT fetches were running. */
  deferred: number;
  /** Offers refused at once because the peer's record failed recently. */
  recentlyRejected: number;
}

/** The cache of verified peer records. */
export class RecordBook {
  readonly #rpc: Rpc;
  readonly #pool: CryptoPool;
  readonly #cache = new Map<string, NodeRecord>();
  readonly #inFlight = new Map<string, Promise<boolean>>();
  /** Ids whose record was invalid or did not match, with the time the ban ends. */
  readonly #rejected = new Map<string, number>();
  readonly #now: () => number;
  readonly #padding = new Uint8Array(WIRE_LIMITS.minRecordRequestPadding);
  readonly counters: RecordCounters = { verified: 0, cacheHits: 0, invalid: 0, idMismatch: 0, fetchFailures: 0, deferred: 0, recentlyRejected: 0 };

  constructor(components: { rpc: Rpc; pool: CryptoPool; now: () => number }) {
    this.#rpc = components.rpc;
    this.#pool = components.pool;
    this.#now = components.now;
  }

  /** The verified record of `id`, if cached. */
  get(contact: Contact): NodeRecord | undefined {
    return this.#cache.get(idToHex(contact.id));
  }

  /** Resolves true once `contact`'s record is verified (from cache, or fetched and checked now). */
  verify(contact: Contact): Promise<boolean> {
    const key = idToHex(contact.id);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, cached); // most recently used last
      this.counters.cacheHits++;
      return Promise.resolve(true);
    }
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    // A forged record costs us one verification per ban period, not one per contact attempt.
    const bannedUntil = this.#rejected.get(key);
    if (bannedUntil !== undefined && bannedUntil > this.#now()) {
      this.counters.recentlyRejected++;
      return Promise.resolve(false);
    }
    if (this.#inFlight.size >= MAX_IN_FLIGHT) {
      this.counters.deferred++;
      return Promise.resolve(false);
    }
    const check = this.#fetch(contact, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, check);
    return check;
  }

  async #fetch(contact: Contact, key: string): Promise<boolean> {
    let bytes: Uint8Array;
    try {
      const reply = await this.#rpc.request(contact, { type: 'GET_RECORD', padding: this.#padding });
      if (reply.type !== 'RECORD') throw new Error('unexpected reply');
      bytes = reply.record;
    } catch {
      this.counters.fetchFailures++; // timeout, refusal or BUSY: not admitted this time
      return false;
    }
    let record: NodeRecord | null;
    try {
      record = await this.#pool.verifyRecord(bytes);
    } catch {
      this.counters.fetchFailures++; // pool BUSY or stopping: try again at the next offer
      return false;
    }
    if (record === null || !idEquals(record.id, contact.id)) {
      if (record === null) this.counters.invalid++;
      else this.counters.idMismatch++;
      this.#rejected.set(key, this.#now() + REJECTED_FOR);
      if (this.#rejected.size > MAX_CACHED) this.#rejected.delete(this.#rejected.keys().next().value!);
      return false;
    }
    this.counters.verified++;
    this.#cache.set(key, record);
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    return true;
  }
}
