/**
 * Capability-aware placement: which of the nodes closest to a key should hold its replicas.
 * Readers look among the k closest, so placement never goes past them: it only reorders the
 * closest few so that nodes known to be full or of bad reputation come last and nodes with room
 * come first, then falls back to distance order. What a node has free comes from its signed
 * record (at handshake) and, fresher, from the `free` hint of its last STORED answer.
 */
import type { Contact, Key, NodeId } from '../id/index.js';
import { compareDistance, idToHex } from '../id/index.js';
import { minute } from '../util/index.js';

/** How long a STORAGE_FULL refusal keeps a node at the back of the order. */
export const FULL_MEMORY = 10 * minute;

/** Entries the capacity book keeps at most (LRU by last update). */
export const MAX_CAPACITY_ENTRIES = 10_000;

interface Capacity { free: number; at: number; fullUntil: number }

/** What this node knows of its peers' free storage. */
export class CapacityBook {
  readonly #peers = new Map<string, Capacity>();

  /** A peer reported `free` bytes (its record, or a STORED answer). */
  observe(id: NodeId, free: number, now: number): void {
    const hex = idToHex(id);
    const old = this.#peers.get(hex);
    this.#peers.delete(hex);
    this.#peers.set(hex, { free, at: now, fullUntil: old?.fullUntil ?? 0 });
    this.#trim();
  }

  /** A peer refused a STORE for lack of room. */
  refused(id: NodeId, now: number): void {
    const hex = idToHex(id);
    const old = this.#peers.get(hex);
    this.#peers.delete(hex);
    this.#peers.set(hex, { free: 0, at: now, fullUntil: now + FULL_MEMORY });
    if (old === undefined) this.#trim();
  }

  /** Free bytes last reported, or undefined when unknown. */
  free(id: NodeId): number | undefined {
    return this.#peers.get(idToHex(id))?.free;
  }

  /** True while a recent refusal or a report of less than `size` bytes free says it will not fit. */
  fits(id: NodeId, size: number, now: number): boolean {
    const c = this.#peers.get(idToHex(id));
    if (c === undefined) return true; // unknown: try it, a full node says so with a clear code
    if (c.fullUntil > now) return false;
    return c.free >= size;
  }

  get size(): number {
    return this.#peers.size;
  }

  #trim(): void {
    while (this.#peers.size > MAX_CAPACITY_ENTRIES) {
      const oldest = this.#peers.keys().next().value;
      if (oldest === undefined) return;
      this.#peers.delete(oldest);
    }
  }
}

/** What placement weighs for each candidate. */
export interface PlacementInput {
  readonly key: Key;
  /** Candidates, any order (the lookup's closest that answered, plus this node when it stores). */
  readonly candidates: readonly Contact[];
  /** Replicas wanted. */
  readonly r: number;
  /** Bytes of the value. */
  readonly size: number;
  /** Nodes reputation marks as bad go last (they are still tried when nobody else is left). */
  readonly isBad: (c: Contact) => boolean;
  readonly fits: (c: Contact) => boolean;
  /** Candidates considered "closest": the first `window` by distance (default min(20, 2r)). */
  readonly window?: number;
}

/**
 * The order in which to ask candidates to store: among the `window` closest, those that fit
 * and are not bad, by distance; then the rest of the window that is not bad; then everyone
 * else by distance (bad ones at the very end). A publisher walks it until r acknowledged.
 */
export function placementOrder(input: PlacementInput): Contact[] {
  const byDistance = [...input.candidates].sort((a, b) => compareDistance(input.key, a.id, b.id));
  const window = Math.min(byDistance.length, input.window ?? Math.min(20, 2 * input.r));
  const rank = (c: Contact, i: number): number => {
    if (input.isBad(c)) return 3;
    if (i >= window) return 2;
    return input.fits(c) ? 0 : 1;
  };
  return byDistance
    .map((c, i) => ({ c, i, rank: rank(c, i) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((x) => x.c);
}
