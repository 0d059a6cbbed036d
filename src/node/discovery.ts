/**
 * Contract discovery over the DHT (docs/contracts.md, "Discovery"). publishTag keeps this
 * publisher's one entry in a tag's multi-writer set, listing the names of its contracts under
 * that tag. findContracts reads the set and resolves each listed name to its manifest record,
 * keeping only manifests that are well formed, owned by the entry's signer, named as listed,
 * still tagged, and signed (checked in the crypto pool). contractInfo resolves one manifest by
 * its key. A bad listing is dropped and counted by reason, never thrown at the finder.
 */
import type { SigningKeys } from '../crypto/index.js';
import {
  type ContractDropReason, type ContractManifest, decodeSignedManifest, decodeTagEntry, encodeTagEntry, isContractTag, manifestKey,
  manifestOwnerId, manifestSalt, manifestSignatureCheck, tagKey,
} from '../contracts/index.js';
import { idToHex, type Key, type NodeId } from '../id/index.js';
import { bytesEqual, DhtError, isDhtError } from '../util/index.js';
import type { SetEntry } from '../values/index.js';
import { getMutableAt } from './mutable.js';
import type { OperationsContext } from './context.js';
import { addToSet, getSet } from './sets.js';

/** Manifests findContracts resolves by default. */
export const DEFAULT_FIND_LIMIT = 64;
/** Manifests findContracts resolves at most (each is a lookup). */
export const MAX_FIND_LIMIT = 256;
/** Manifest lookups in flight at once during a find. */
const FIND_PARALLEL = 4;

/** A verified manifest as found in the DHT. */
export interface ContractListing {
  /** The manifest record's key, mutableKey(owner, manifestSalt(name)): what contractInfo takes. */
  key: Key;
  manifest: ContractManifest;
  /** BLAKE3 of the owner's public key. */
  ownerId: NodeId;
  /** The record's sequence number: one more at each deploy of the name. */
  seq: number;
  /** The signed manifest as stored (decodeSignedManifest + verifyManifest check it offline). */
  signed: Uint8Array;
}

/** Options of findContracts. */
export interface FindContractsOptions {
  /** Manifests resolved at most, 1..256. Default 64. */
  limit?: number;
  signal?: AbortSignal;
}

/** What a find saw. */
export interface FindContractsResult {
  tag: string;
  /** Verified manifests, by name then owner id. */
  contracts: ContractListing[];
  /** Entries (one per publisher) in the tag's set. */
  publishers: number;
  /** Listings left out, by reason (also counted in extendedStats().contracts.dropped). */
  dropped: Partial<Record<ContractDropReason, number>>;
  /** True when more names were listed than `limit`. */
  truncated: boolean;
  durationMs: number;
}

/** Told of every listing dropped (the node's counters). */
export type OnDrop = (reason: ContractDropReason) => void;

/** What a listing must match besides its own consistency. */
interface Expected { name?: string; tag?: string }

/** The verified manifests listed under `tag`, bounded by `limit`. A tag nobody listed gives none. */
export async function findContracts(ctx: OperationsContext, tag: string, opts: FindContractsOptions, onDrop: OnDrop): Promise<FindContractsResult> {
  const started = ctx.clock.now();
  if (!isContractTag(tag)) throw new RangeError('tag must be 1..32 of [a-z0-9-], starting with a letter or digit');
  const limit = opts.limit ?? DEFAULT_FIND_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIND_LIMIT) throw new RangeError(`options.limit must be an integer in 1..${MAX_FIND_LIMIT}`);
  const entries = await tagEntries(ctx, tag, opts.signal);
  const dropped: Partial<Record<ContractDropReason, number>> = {};
  const drop = (reason: ContractDropReason): void => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
    onDrop(reason);
  };
  const wanted = new Map<string, { key: Key; name: string }>();
  for (const e of entries) {
    const names = decodeTagEntry(e.value);
    if (names === null) drop('entry_malformed');
    for (const name of names ?? []) {
      const key = manifestKey(e.publicKey, name);
      wanted.set(idToHex(key), { key, name });
    }
  }
  const listed = [...wanted.values()];
  const outcomes = await mapLimited(listed.slice(0, limit), FIND_PARALLEL, (w) => resolveListing(ctx, w.key, { name: w.name, tag }, opts.signal));
  const contracts: ContractListing[] = [];
  for (const o of outcomes) {
    if (typeof o === 'string') drop(o);
    else contracts.push(o);
  }
  contracts.sort((a, b) => compareText(a.manifest.name, b.manifest.name) || compareText(idToHex(a.ownerId), idToHex(b.ownerId)));
  return { tag, contracts, publishers: entries.length, dropped, truncated: listed.length > limit, durationMs: ctx.clock.now() - started };
}

/** The verified manifest under `key`. Rejects NOT_FOUND, INVALID_SIGNATURE, or INVALID_CONTENT naming the drop reason. */
export async function contractInfo(ctx: OperationsContext, key: Key, name: string | undefined, signal: AbortSignal | undefined, onDrop: OnDrop): Promise<ContractListing> {
  const outcome = await resolveListing(ctx, key, { name }, signal);
  if (typeof outcome !== 'string') return outcome;
  onDrop(outcome);
  const what = `contract manifest ${idToHex(key)}`;
  if (outcome === 'missing') throw DhtError.notFound(what);
  if (outcome === 'bad_signature') throw new DhtError('INVALID_SIGNATURE', `${what}: the manifest's signature does not verify with its owner's key`);
  throw new DhtError('INVALID_CONTENT', `${what} refused: ${outcome}`);
}

/**
 * Adds `name` to this publisher's entry in the set of `tag` (read, merge, re-sign with a higher
 * seq); resolves with the replicas that took it. The caller serialises updates of one publisher.
 */
export async function publishTag(ctx: OperationsContext, keys: SigningKeys, tag: string, name: string, opts: { ttl: number; replicationFactor?: number; signal?: AbortSignal }): Promise<number> {
  const key = tagKey(tag);
  const own = (await tagEntries(ctx, tag, opts.signal)).find((e) => bytesEqual(e.publicKey, keys.publicKey));
  const names = own === undefined ? [] : decodeTagEntry(own.value) ?? [];
  let value: Uint8Array;
  try {
    value = encodeTagEntry([...names, name]);
  } catch (err) {
    throw new DhtError('VALUE_TOO_BIG', `this publisher's entry under tag '${tag}' is full: ${(err as Error).message}`);
  }
  // A later entry must carry a higher seq: the time in ms, or one above ours if the clock is behind.
  const seq = Math.max(Math.floor(ctx.clock.now()), (own?.seq ?? -1) + 1);
  const r = await addToSet(ctx, key, value, keys, { ttl: opts.ttl, seq, replicationFactor: opts.replicationFactor, signal: opts.signal });
  return r.replicas.length;
}

/** The live entries of a tag's set; none when no holder has it. */
async function tagEntries(ctx: OperationsContext, tag: string, signal?: AbortSignal): Promise<SetEntry[]> {
  try {
    return (await getSet(ctx, tagKey(tag), signal)).entries;
  } catch (err) {
    if (isDhtError(err, 'NOT_FOUND')) return [];
    throw err;
  }
}

/**
 * Fetches the record under `key` (already checked against the key and its own signature) and
 * checks the manifest in it, cheap checks first, the manifest's signature last (in the pool).
 */
async function resolveListing(ctx: OperationsContext, key: Key, expected: Expected, signal?: AbortSignal): Promise<ContractListing | ContractDropReason> {
  let got;
  try {
    got = await getMutableAt(ctx, key, { signal });
  } catch (err) {
    // One unreachable manifest must not fail a whole find; a stopping node or an abort must.
    if (err instanceof DhtError && err.code !== 'DESTROYED' && err.code !== 'ABORTED') return 'missing';
    throw err;
  }
  const signed = decodeSignedManifest(got.value);
  if (signed === null) return 'manifest_malformed';
  const m = signed.manifest;
  if (!bytesEqual(m.owner, got.record.publicKey)) return 'owner_mismatch';
  if (!bytesEqual(got.record.salt, manifestSalt(m.name)) || (expected.name !== undefined && m.name !== expected.name)) return 'name_mismatch';
  if (expected.tag !== undefined && !m.tags.includes(expected.tag)) return 'untagged';
  if (!(await ctx.pool.verify(manifestSignatureCheck(signed)))) return 'bad_signature';
  return { key, manifest: m, ownerId: manifestOwnerId(m) as NodeId, seq: got.seq, signed: got.value };
}

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
