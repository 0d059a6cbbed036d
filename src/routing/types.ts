/**
 * Value types of the routing table: what an entry records, what `add()` reports, and the
 * per-bucket summary used by stats. Entries are immutable snapshots; the table swaps them.
 */
import type { Contact } from '../id/index.js';

/** A contact as the routing table holds it, with the facts an eviction policy needs. */
export interface RoutingEntry {
  /** The peer's id and the endpoint it was last seen at. */
  readonly contact: Contact;
  /** When the peer was last offered to the table as live (caller's clock, ms). */
  readonly lastSeen: number;
  /** When the entry entered its bucket (or the replacement cache, for a cached entry). */
  readonly addedAt: number;
  /** Failed requests since the peer was last seen; reset by `add()`. */
  readonly failures: number;
  /**
   * True while the peer is known only because it contacted us: it was added with
   * `{ inbound: true }` and has not since been offered without that flag (after answering a
   * request of our own). Inbound-only entries count against `maxInboundPerBucket`.
   */
  readonly inbound: boolean;
}

/** Which admission limit a contact would have broken (see diversity.ts). */
export type RejectReason = 'subnet_bucket' | 'subnet_table' | 'inbound_limit';

/**
 * What `RoutingTable.add()` did:
 * - `added`: the contact took a free slot in its bucket;
 * - `updated`: it was already there; now most-recently-seen, failures reset, address refreshed;
 * - `full`: its bucket is full; the newcomer went into that bucket's replacement cache, and the
 *   caller may ping `oldest` (the least-recently-seen entry) and `replace()` it if it is dead;
 * - `rejected`: admitting the contact (or moving a known one to its new address) would break
 *   `reason`'s limit; nothing changed and the contact was not cached;
 * - `self`: the contact carries the table's own id and was ignored.
 */
export type AddResult =
  | { readonly status: 'added' }
  | { readonly status: 'updated' }
  | { readonly status: 'full'; readonly oldest: RoutingEntry }
  | { readonly status: 'rejected'; readonly reason: RejectReason }
  | { readonly status: 'self' };

/** Options of `RoutingTable.add()` and `replace()`. */
export interface AddOptions {
  /**
   * True when the contact is offered because it contacted us, not because it answered a request
   * of ours. Default false, which also clears the inbound flag of a known entry.
   */
  inbound?: boolean;
}

/** A summary of one bucket, for stats and the node's API. */
export interface BucketInfo {
  /** Bucket index: the number of leading bits its ids share with the table's own id. */
  readonly index: number;
  /** Contacts in the bucket. */
  readonly size: number;
  /** Entries in the bucket's replacement cache. */
  readonly replacements: number;
  /** When a contact was last added, refreshed or promoted here, or `touchBucket()` was called; 0 if never. */
  readonly lastChanged: number;
}

/** The table's diversity as it stands, for tests and stats (`RoutingTable.diversity()`). */
export interface DiversityStats {
  /** Highest number of entries any one counted subnet has in any one bucket now. */
  readonly maxPerSubnetPerBucket: number;
  /** Highest number of entries any one counted subnet has in the whole table now. */
  readonly maxPerSubnetPerTable: number;
  /** Inbound-only entries of each bucket, by bucket index, up to the deepest non-empty bucket. */
  readonly inboundPerBucket: readonly number[];
  /** The largest value of `inboundPerBucket` (0 for an empty table). */
  readonly maxInboundPerBucket: number;
  /** Inbound-only entries in the whole table. */
  readonly inboundOnly: number;
  /** Entries not inbound-only: peers that answered a request of ours (outbound-verified). */
  readonly outbound: number;
  /**
   * The table-wide bound on inbound-only entries now: a new inbound-only contact is admitted only
   * while `inboundOnly` is below it (`max(minInboundAllowance, floor(maxInboundShare × outbound))`).
   */
  readonly inboundAllowance: number;
}

/** The counts behind the admission limits, as copies (`RoutingTable.diversityCounts()`); zero counts are absent. */
export interface DiversityCounts {
  /** Entries per counted subnet (`"10.1.2.0/24"`, `"2001:0db8:0001::/48"`) in the whole table. */
  readonly perTable: Map<string, number>;
  /** Entries per counted subnet, by bucket index. */
  readonly perBucket: Map<number, Map<string, number>>;
  /** Inbound-only entries, by bucket index. */
  readonly inbound: Map<number, number>;
  /** Inbound-only entries in the whole table (a counter of its own, kept in step with `inbound`). */
  readonly inboundOnly: number;
  /** Entries that are not inbound-only. */
  readonly outbound: number;
}

/** Contacts refused by each admission limit since the table was made (`RoutingTable.rejections`). */
export type RejectionCounters = Readonly<Record<RejectReason, number>>;

/** Options of `new RoutingTable()`; defaults come from `util/constants.ts` and `routing/diversity.ts`. */
export interface RoutingTableInit {
  /** Contacts per bucket (default K_BUCKET_SIZE = 20). A positive integer. */
  k?: number;
  /** Replacement-cache entries kept per bucket (default REPLACEMENT_CACHE_SIZE = 20). 0 disables the cache. */
  replacementCacheSize?: number;
  /** Entries per /24 (IPv4) or /48 (IPv6) in one bucket (default MAX_PER_SUBNET_PER_BUCKET = 2). A positive integer or Infinity. */
  maxPerSubnetPerBucket?: number;
  /** Entries per /24 or /48 in the whole table (default MAX_PER_SUBNET_PER_TABLE = 10). A positive integer or Infinity. */
  maxPerSubnetPerTable?: number;
  /** Inbound-only entries per bucket (default MAX_INBOUND_PER_BUCKET = 5). A non-negative integer or Infinity. */
  maxInboundPerBucket?: number;
  /**
   * Inbound-only entries in the whole table, as a share of the outbound-verified entries (default
   * MAX_INBOUND_SHARE = 0.2): a new inbound-only contact is admitted only while the table holds fewer
   * than `max(minInboundAllowance, floor(maxInboundShare × outbound))`. A non-negative number; Infinity disables the bound.
   */
  maxInboundShare?: number;
  /**
   * Inbound-only entries the table admits whatever its outbound count (default ceil(k / 2) = 10),
   * so a fresh node with an empty table can take its first contacts. A non-negative integer or Infinity.
   */
  minInboundAllowance?: number;
  /**
   * Test-only: loopback hosts (127/8, ::1) count against the subnet limits like public ones, so
   * a loopback testnet can play an attack. Private LAN and link-local ranges stay exempt.
   */
  treatLoopbackAsPublic?: boolean;
}
