/**
 * The Kademlia routing table (Maymounkov & Mazières 2002 §2.2; BEP 5 "Routing Table"): 256
 * k-buckets indexed by common-prefix length with our own id, each with a replacement cache.
 * Pure and policy-free, like dht-rpc's kademlia-routing-table: no I/O, no timers, time comes in
 * as `now`. A full bucket is *reported*; whether to ping and evict is the caller's decision.
 */
import { type Contact, type Id, type NodeId, ID_BITS, commonPrefixLength, compareDistance, isId } from '../id/index.js';
import { K_BUCKET_SIZE, REPLACEMENT_CACHE_SIZE, isPort } from '../util/index.js';
import { Bucket } from './bucket.js';
import { bucketVisitOrder } from './order.js';
import type { AddResult, BucketInfo, RoutingEntry, RoutingTableInit } from './types.js';

const ADDED: AddResult = Object.freeze({ status: 'added' });
const UPDATED: AddResult = Object.freeze({ status: 'updated' });
const SELF: AddResult = Object.freeze({ status: 'self' });

function assertInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer`);
  }
}

function assertContact(contact: Contact): void {
  if (!isId(contact.id)) throw new TypeError('contact.id must be a 32-byte id');
  if (typeof contact.host !== 'string') throw new TypeError('contact.host must be a string');
  if (!isPort(contact.port)) throw new RangeError('contact.port must be an integer in 1..65535');
}

/**
 * Contacts known to this node, grouped by distance from `self`. Bucket i holds ids sharing
 * exactly i leading bits with `self`; each bucket keeps at most k, least-recently-seen first.
 */
export class RoutingTable {
  /** The table owner's id; never stored. */
  readonly self: NodeId;
  /** Contacts per bucket. */
  readonly k: number;
  /** Replacement-cache entries kept per bucket. */
  readonly replacementCacheSize: number;
  // Sparse, created on first use: most of the 256 buckets of a table stay empty, and the
  // simulator holds many tables.
  readonly #buckets: (Bucket | undefined)[] = [];
  #size = 0;

  /** A table for `self`; throws RangeError naming a bad option. */
  constructor(self: NodeId, init: RoutingTableInit = {}) {
    if (!isId(self)) throw new TypeError('self must be a 32-byte id');
    const k = init.k ?? K_BUCKET_SIZE;
    const cache = init.replacementCacheSize ?? REPLACEMENT_CACHE_SIZE;
    assertInteger(k, 'options.k', 1);
    assertInteger(cache, 'options.replacementCacheSize', 0);
    this.self = new Uint8Array(self) as NodeId;
    this.k = k;
    this.replacementCacheSize = cache;
  }

  /** Number of contacts in the buckets (replacement caches not counted). */
  get size(): number {
    return this.#size;
  }

  /** The bucket `id` belongs in: its common-prefix length with `self`; -1 for `self` itself. */
  bucketIndex(id: Id): number {
    const index = commonPrefixLength(this.self, id);
    return index === ID_BITS ? -1 : index;
  }

  /**
   * Offers a contact seen alive at `now`. A known id becomes most-recently-seen (at its new
   * address, if it moved); a new id takes a free slot, or, when its bucket is full, goes to that
   * bucket's replacement cache and the result names the bucket's least-recently-seen entry.
   */
  add(contact: Contact, now: number): AddResult {
    assertContact(contact);
    const index = this.bucketIndex(contact.id);
    if (index < 0) return SELF;
    const bucket = this.#bucketAt(index);
    const i = bucket.indexOf(contact.id);
    if (i >= 0) {
      bucket.refresh(i, contact, now);
      bucket.lastChanged = now;
      return UPDATED;
    }
    if (bucket.entries.length < this.k) {
      bucket.dropReplacement(contact.id);
      bucket.append(contact, now);
      bucket.lastChanged = now;
      this.#size++;
      return ADDED;
    }
    bucket.cache(contact, now, this.replacementCacheSize);
    return { status: 'full', oldest: bucket.entries[0]! };
  }

  /**
   * Removes `id` (from its bucket and from the replacement cache) and promotes the most recently
   * seen replacement into the freed slot. Returns the removed entry, or undefined when `id` was
   * not in a bucket.
   */
  remove(id: NodeId, now: number): RoutingEntry | undefined {
    const bucket = this.#existing(id);
    if (bucket === undefined) return undefined;
    bucket.dropReplacement(id);
    const i = bucket.indexOf(id);
    if (i < 0) return undefined;
    const removed = bucket.removeAt(i);
    this.#size--;
    this.#promote(bucket, now);
    return removed;
  }

  /**
   * Evicts `oldId` (typically after it failed its pings) and adds `contact` in its place; without
   * `contact`, promotes the most recently seen replacement instead. Returns the entry that took
   * the slot (the contact's entry when one was given), or undefined when none did.
   */
  replace(oldId: NodeId, contact: Contact | undefined, now: number): RoutingEntry | undefined {
    if (contact !== undefined) assertContact(contact);
    const bucket = this.#existing(oldId);
    if (bucket !== undefined) {
      bucket.dropReplacement(oldId);
      const i = bucket.indexOf(oldId);
      if (i >= 0) {
        bucket.removeAt(i);
        this.#size--;
      }
    }
    if (contact !== undefined) this.add(contact, now);
    // A contact from another bucket leaves this slot free: a replacement may still take it.
    const promoted = bucket === undefined ? undefined : this.#promote(bucket, now);
    return contact === undefined ? promoted : this.get(contact.id);
  }

  /** Counts a failed request to `id`; returns its failures so far, or 0 when `id` is not in the table. */
  recordFailure(id: NodeId): number {
    const bucket = this.#existing(id);
    if (bucket === undefined) return 0;
    const i = bucket.indexOf(id);
    return i < 0 ? 0 : bucket.fail(i);
  }

  /** The entry for `id`, or undefined when it is not in a bucket (replacements do not count). */
  get(id: NodeId): RoutingEntry | undefined {
    const bucket = this.#existing(id);
    if (bucket === undefined) return undefined;
    return bucket.entries[bucket.indexOf(id)];
  }

  /** True when `id` is in a bucket (replacements do not count). */
  has(id: NodeId): boolean {
    return this.get(id) !== undefined;
  }

  /**
   * Up to `n` contacts closest to `target` by XOR distance, closest first, keeping only entries
   * `filter` accepts. Visits buckets nearest-first (see order.ts) and sorts only those it needs.
   */
  closest(target: Id, n: number = this.k, filter?: (entry: RoutingEntry) => boolean): Contact[] {
    if (!isId(target)) throw new TypeError('target must be a 32-byte id');
    assertInteger(n, 'n', 0);
    const out: Contact[] = [];
    for (const index of bucketVisitOrder(this.self, target, this.#buckets.length)) {
      if (out.length >= n) break;
      const entries = this.#buckets[index]?.entries;
      if (entries === undefined || entries.length === 0) continue;
      const picked = filter === undefined ? entries.slice() : entries.filter(filter);
      picked.sort((a, b) => compareDistance(target, a.contact.id, b.contact.id));
      for (const e of picked) {
        if (out.length >= n) break;
        out.push(e.contact);
      }
    }
    return out;
  }

  /** Every entry, by bucket index, each bucket least-recently-seen first. */
  entries(): RoutingEntry[] {
    const out: RoutingEntry[] = [];
    for (const bucket of this.#buckets) if (bucket !== undefined) out.push(...bucket.entries);
    return out;
  }

  /** A summary of every bucket holding a contact or a replacement, by index. */
  buckets(): BucketInfo[] {
    const out: BucketInfo[] = [];
    this.#buckets.forEach((b, index) => {
      if (b === undefined || (b.entries.length === 0 && b.replacements.length === 0)) return;
      out.push({ index, size: b.entries.length, replacements: b.replacements.length, lastChanged: b.lastChanged });
    });
    return out;
  }

  /**
   * Indices of the buckets, from 0 to the deepest one holding a contact, left unchanged for at
   * least `idleMs` at `now` (Kademlia §2.3: refresh a bucket with no lookup within an hour).
   * The caller looks up a random id in each (`randomIdInBucket`) and then calls `touchBucket()`.
   */
  staleBuckets(now: number, idleMs: number): number[] {
    if (!(idleMs >= 0)) throw new RangeError('idleMs must be a non-negative number');
    const stale: number[] = [];
    for (let i = 0; i <= this.#deepest(); i++) {
      if (now - (this.#buckets[i]?.lastChanged ?? 0) >= idleMs) stale.push(i);
    }
    return stale;
  }

  /** Marks bucket `index` fresh at `now`, e.g. after a lookup of an id in its range. */
  touchBucket(index: number, now: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= ID_BITS) {
      throw new RangeError(`index must be an integer in [0, ${ID_BITS - 1}]`);
    }
    this.#bucketAt(index).lastChanged = now;
  }

  #bucketAt(index: number): Bucket {
    let bucket = this.#buckets[index];
    if (bucket === undefined) {
      bucket = new Bucket();
      this.#buckets[index] = bucket;
    }
    return bucket;
  }

  #existing(id: NodeId): Bucket | undefined {
    const index = this.bucketIndex(id);
    return index < 0 ? undefined : this.#buckets[index];
  }

  /** Fills one free slot of `bucket` from its replacement cache. */
  #promote(bucket: Bucket, now: number): RoutingEntry | undefined {
    if (bucket.entries.length >= this.k) return undefined;
    const promoted = bucket.promote(now);
    if (promoted === undefined) return undefined;
    // A plain removal leaves lastChanged alone (BEP 5): an emptier bucket should refresh sooner.
    bucket.lastChanged = now;
    this.#size++;
    return promoted;
  }

  #deepest(): number {
    for (let i = this.#buckets.length - 1; i >= 0; i--) {
      if ((this.#buckets[i]?.entries.length ?? 0) > 0) return i;
    }
    return -1;
  }
}
