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
}

/**
 * What `RoutingTable.add()` did:
 * - `added`: the contact took a free slot in its bucket;
 * - `updated`: it was already there; now most-recently-seen, failures reset, address refreshed;
 * - `full`: its bucket is full; the newcomer went into that bucket's replacement cache, and the
 *   caller may ping `oldest` (the least-recently-seen entry) and `replace()` it if it is dead;
 * - `self`: the contact carries the table's own id and was ignored.
 */
export type AddResult =
  | { readonly status: 'added' }
  | { readonly status: 'updated' }
  | { readonly status: 'full'; readonly oldest: RoutingEntry }
  | { readonly status: 'self' };

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

/** Options of `new RoutingTable()`; defaults come from `util/constants.ts`. */
export interface RoutingTableInit {
  /** Contacts per bucket (default K_BUCKET_SIZE = 20). A positive integer. */
  k?: number;
  /** Replacement-cache entries kept per bucket (default REPLACEMENT_CACHE_SIZE = 20). 0 disables the cache. */
  replacementCacheSize?: number;
}
