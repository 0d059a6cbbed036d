/**
 * Lookups over d disjoint paths (S/Kademlia, Baumgart & Mies 2007 §4.4): the seeds are dealt
 * round-robin to d independent lookups, and a peer claimed by one path is never queried by
 * another, so an adversary met on one path cannot steer the others. The result merges the
 * paths; a target is reached when any path reaches it.
 */
import type { Contact } from '../id/index.js';
import { compareDistance, idToHex } from '../id/index.js';
import { driveLookup, type DriveOptions, type LookupResult, type QueryFn } from './drive.js';
import { Lookup, type LookupInit } from './lookup.js';

/** The merged outcome of a disjoint lookup. */
export interface DisjointResult {
  /** Up to k peers that answered on any path, closest first. */
  closest: Contact[];
  /** Each path's own result, in path order. */
  paths: LookupResult[];
  /** Requests sent over all paths. */
  queried: number;
  /** The longest path's duration, ms. */
  durationMs: number;
}

/**
 * Runs `paths` lookups for `init.target` side by side (`paths` = 1 is a plain lookup). Each path
 * keeps its own alpha and k; the claim set is shared. Never rejects.
 */
export async function driveDisjointLookup(
  init: Omit<LookupInit, 'claim'>, seeds: readonly Contact[], paths: number, query: QueryFn, options: DriveOptions,
): Promise<DisjointResult> {
  if (!Number.isInteger(paths) || paths < 1) throw new RangeError('paths must be a positive integer');
  const claimed = new Set<string>();
  const claim = (c: Contact): boolean => {
    const hex = idToHex(c.id);
    if (claimed.has(hex)) return false;
    claimed.add(hex);
    return true;
  };
  const dealt: Contact[][] = Array.from({ length: paths }, () => []);
  seeds.forEach((c, i) => dealt[i % paths]!.push(c));
  const results = await Promise.all(dealt.map((s) =>
    driveLookup(new Lookup(paths === 1 ? init : { ...init, claim }, s), query, options)));
  const k = init.k ?? results[0]?.closest.length ?? 0;
  const seen = new Set<string>();
  const merged: Contact[] = [];
  for (const r of results) {
    for (const c of r.closest) {
      const hex = idToHex(c.id);
      if (!seen.has(hex)) { seen.add(hex); merged.push(c); }
    }
  }
  merged.sort((a, b) => compareDistance(init.target, a.id, b.id));
  return {
    closest: merged.slice(0, init.k ?? k),
    paths: results,
    queried: results.reduce((n, r) => n + r.queried, 0),
    durationMs: Math.max(0, ...results.map((r) => r.durationMs)),
  };
}
