/**
 * The Kademlia routing table (Maymounkov & Mazières 2002 §2.2; BEP 5 "Routing Table"): 256
 * k-buckets indexed by common-prefix length with our own id, each with a replacement cache.
 * Pure and policy-free, like dht-rpc's kademlia-routing-table: no I/O, no timers, time comes in
 * as `now`. A full bucket is *reported*; whether to ping and evict is the caller's decision.
 * Admission is bounded per subnet and for inbound-only peers, per bucket and table-wide
 * (diversity.ts, docs/security.md).
 */
import { type Contact, type Id, type NodeId, ID_BITS, commonPrefixLength, compareDistance, isId } from '../id/index.js';
import { K_BUCKET_SIZE, REPLACEMENT_CACHE_SIZE } from '../util/index.js';
import { Bucket } from './bucket.js';
import { DiversityCounter, resolveDiversityLimits } from './diversity.js';
import { bucketVisitOrder } from './order.js';
import { assertContact, assertInteger, inboundOption } from './validate.js';
import type {
  AddOptions, AddResult, BucketInfo, DiversityCounts, DiversityStats, RejectReason, RejectionCounters, RoutingEntry, RoutingTableInit,
} from './types.js';

const ADDED: AddResult = Object.freeze({ status: 'added' });
const UPDATED: AddResult = Object.freeze({ status: 'updated' });
const SELF: AddResult = Object.freeze({ status: 'self' });
const REJECTED: Readonly<Record<RejectReason, AddResult>> = Object.freeze({
  subnet_bucket: Object.freeze({ status: 'rejected', reason: 'subnet_bucket' }),
  subnet_table: Object.freeze({ status: 'rejected', reason: 'subnet_table' }),
  inbound_limit: Object.freeze({ status: 'rejected', reason: 'inbound_limit' }),
});

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
  /** Entries per /24 (IPv4) or /48 (IPv6) subnet in one bucket; local hosts exempt. */
  readonly maxPerSubnetPerBucket: number;
  /** Entries per /24 or /48 subnet in the whole table; local hosts exempt. */
  readonly maxPerSubnetPerTable: number;
  /** Inbound-only entries per bucket. */
  readonly maxInboundPerBucket: number;
  /** Inbound-only entries in the table per outbound-verified entry (the table-wide bound). */
  readonly maxInboundShare: number;
  /** Inbound-only entries admitted whatever the outbound count (the floor of the table-wide bound). */
  readonly minInboundAllowance: number;
  /** Whether loopback hosts count against the subnet limits (test-only; default false). */
  readonly treatLoopbackAsPublic: boolean;
  // Sparse, created on first use: most of the 256 buckets of a table stay empty, and the
  // simulator holds many tables.
  readonly #buckets: (Bucket | undefined)[] = [];
  #size = 0;
  readonly #diversity: DiversityCounter;
  readonly #rejections: Record<RejectReason, number> = { subnet_bucket: 0, subnet_table: 0, inbound_limit: 0 };

  /** A table for `self`; throws RangeError (or TypeError) naming a bad option. */
  constructor(self: NodeId, init: RoutingTableInit = {}) {
    if (!isId(self)) throw new TypeError('self must be a 32-byte id');
    const k = init.k ?? K_BUCKET_SIZE;
    const cache = init.replacementCacheSize ?? REPLACEMENT_CACHE_SIZE;
    assertInteger(k, 'options.k', 1);
    assertInteger(cache, 'options.replacementCacheSize', 0);
    this.self = new Uint8Array(self) as NodeId;
    this.k = k;
    this.replacementCacheSize = cache;
    const limits = resolveDiversityLimits(init, k);
    this.maxPerSubnetPerBucket = limits.maxPerSubnetPerBucket;
    this.maxPerSubnetPerTable = limits.maxPerSubnetPerTable;
    this.maxInboundPerBucket = limits.maxInboundPerBucket;
    this.maxInboundShare = limits.maxInboundShare;
    this.minInboundAllowance = limits.minInboundAllowance;
    this.treatLoopbackAsPublic = limits.treatLoopbackAsPublic;
    this.#diversity = new DiversityCounter(limits);
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
   * A new id whose subnet already fills its share of the bucket or table, or an inbound one
   * (`options.inbound`) when the bucket or the whole table holds its share of inbound-only
   * entries, is `rejected` and not cached; so is a known id moving to such a subnet (it keeps its
   * old address).
   */
  add(contact: Contact, now: number, options: AddOptions = {}): AddResult {
    assertContact(contact);
    const inbound = inboundOption(options);
    const index = this.bucketIndex(contact.id);
    if (index < 0) return SELF;
    const bucket = this.#bucketAt(index);
    const i = bucket.indexOf(contact.id);
    if (i >= 0) return this.#update(bucket, i, contact, now, inbound);
    const reason = this.#diversity.check(index, contact.host, inbound);
    if (reason !== null) return this.#reject(reason);
    if (bucket.entries.length < this.k) {
      bucket.dropReplacement(contact.id);
      bucket.append(contact, now, inbound);
      this.#diversity.add(index, contact.host, inbound);
      bucket.lastChanged = now;
      this.#size++;
      return ADDED;
    }
    bucket.cache(contact, now, this.replacementCacheSize, inbound);
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
    const removed = this.#removeEntry(bucket, id);
    if (removed === undefined) return undefined;
    this.#promote(bucket, now);
    return removed;
  }

  /**
   * Evicts `oldId` (typically after it failed its pings) and adds `contact` in its place; without
   * `contact`, promotes the most recently seen replacement instead. Returns the entry that took
   * the slot (the contact's entry when one was given), or undefined when none did (a given
   * contact can be refused by the admission limits, as by `add()` with the same `options`).
   */
  replace(oldId: NodeId, contact: Contact | undefined, now: number, options: AddOptions = {}): RoutingEntry | undefined {
    if (contact !== undefined) assertContact(contact);
    inboundOption(options);
    const bucket = this.#existing(oldId);
    if (bucket !== undefined) {
      bucket.dropReplacement(oldId);
      this.#removeEntry(bucket, oldId);
    }
    if (contact !== undefined) this.add(contact, now, options);
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

  /**
   * Highest subnet counts, inbound-only entries per bucket and in the table, outbound-verified
   * entries and the table-wide inbound allowance, as they stand; for tests and stats.
   */
  diversity(): DiversityStats {
    return this.#diversity.stats(this.#deepest() + 1);
  }

  /**
   * Copies of the tracked counts behind the limits: entries per subnet in the table, per bucket
   * index per subnet, inbound-only entries per bucket index and in the table, and outbound-verified
   * entries. Exempt (local) hosts are not counted per subnet. For tests and audits; `diversity()`
   * is the cheap summary.
   */
  diversityCounts(): DiversityCounts {
    return this.#diversity.counts();
  }

  /** Contacts refused by each limit so far, including replacements dropped at promotion. A copy. */
  get rejections(): RejectionCounters {
    return { ...this.#rejections };
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
      bucket = new Bucket(index);
      this.#buckets[index] = bucket;
    }
    return bucket;
  }

  #existing(id: NodeId): Bucket | undefined {
    const index = this.bucketIndex(id);
    return index < 0 ? undefined : this.#buckets[index];
  }

  /** Refreshes entry `i`, moving it if its address changed and the limits allow. */
  #update(bucket: Bucket, i: number, contact: Contact, now: number, inbound: boolean): AddResult {
    const old = bucket.entries[i]!;
    if (old.contact.host !== contact.host) {
      // Only the subnet can change with the host; the inbound flag can only be cleared.
      const reason = this.#diversity.check(bucket.index, contact.host, false, old.contact.host);
      if (reason !== null) return this.#reject(reason);
    }
    const entry = bucket.refresh(i, contact, now, inbound)!;
    this.#diversity.delete(bucket.index, old.contact.host, old.inbound);
    this.#diversity.add(bucket.index, entry.contact.host, entry.inbound);
    bucket.lastChanged = now;
    return UPDATED;
  }

  /** Takes `id` out of the entries of `bucket`, releasing its counts. */
  #removeEntry(bucket: Bucket, id: NodeId): RoutingEntry | undefined {
    const i = bucket.indexOf(id);
    const removed = i < 0 ? undefined : bucket.removeAt(i);
    if (removed === undefined) return undefined;
    this.#diversity.delete(bucket.index, removed.contact.host, removed.inbound);
    this.#size--;
    return removed;
  }

  #reject(reason: RejectReason): AddResult {
    this.#rejections[reason]++;
    return REJECTED[reason];
  }

  /**
   * Fills one free slot of `bucket` from its replacement cache, most recently seen first.
   * Replacements that the limits now refuse are dropped (and counted): the table may have
   * changed since they were cached.
   */
  #promote(bucket: Bucket, now: number): RoutingEntry | undefined {
    if (bucket.entries.length >= this.k) return undefined;
    for (let r = bucket.popReplacement(); r !== undefined; r = bucket.popReplacement()) {
      const reason = this.#diversity.check(bucket.index, r.contact.host, r.inbound);
      if (reason !== null) {
        this.#rejections[reason]++;
        continue;
      }
      const promoted = bucket.promote(r, now);
      this.#diversity.add(bucket.index, promoted.contact.host, promoted.inbound);
      // A plain removal leaves lastChanged alone (BEP 5): an emptier bucket should refresh sooner.
      bucket.lastChanged = now;
      this.#size++;
      return promoted;
    }
    return undefined;
  }

  #deepest(): number {
    for (let i = this.#buckets.length - 1; i >= 0; i--) {
      if ((this.#buckets[i]?.entries.length ?? 0) > 0) return i;
    }
    return -1;
  }
}
