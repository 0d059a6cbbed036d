/**
 * Multi-writer sets (docs/records.md): many signed entries under one key — provider records,
 * tag indexes. Each writer signs its own entry (one per signer per key, newest seq wins, each
 * with its own expiry); storage nodes verify and merge, capped per key. A read collects the sets
 * of every holder among the closest and merges them.
 */
import type { SigningKeys } from '../crypto/index.js';
import type { Contact, Key } from '../id/index.js';
import { compareDistance, idToHex } from '../id/index.js';
import { DhtError, MAX_TTL } from '../util/index.js';
import {
  checkEntryShape, decodeSet, encodeSet, liveEntries, MAX_SET_ENTRIES, MAX_SET_ENTRY_VALUE_BYTES, mergeSet, type SetEntry, setEntrySigningPayload,
} from '../values/index.js';
import { ValueKind } from '../wire/index.js';
import { verifyEntry } from './accept.js';
import type { OperationsContext } from './context.js';
import { publish, type PutResult, replicationFactor, type Write } from './operations.js';
import { runLookup } from './run-lookup.js';

/** Options of addToSet. */
export interface AddToSetOptions {
  /** Signing keys of the entry's writer; default this node's identity keys. */
  keys?: SigningKeys;
  /** How long the entry is valid, in ms (signed into it); default the node's defaultTtl. */
  ttl?: number;
  /** The entry's seq; default the current time in ms, so a writer's later entry replaces its earlier one. */
  seq?: number;
  replicationFactor?: number;
  signal?: AbortSignal;
}

/** A set as read from the network. */
export interface GetSetResult {
  key: Key;
  /** Live entries, merged over every holder that answered, one per signer. */
  entries: SetEntry[];
  /** Holders whose sets were merged (this node included when it holds one). */
  holders: number;
  /** Answers that failed their checks (an entry not signed by its signer, malformed). */
  rejected: number;
  hops: number;
  durationMs: number;
}

/** Signs `value` as this writer's entry in the set under `key` and stores it on the closest nodes. */
export async function addToSet(ctx: OperationsContext, key: Key, value: Uint8Array, keys: SigningKeys, opts: AddToSetOptions = {}): Promise<PutResult & { entry: SetEntry }> {
  const started = ctx.clock.now();
  if (value.byteLength > MAX_SET_ENTRY_VALUE_BYTES) throw DhtError.valueTooBig(value.byteLength, MAX_SET_ENTRY_VALUE_BYTES);
  const r = replicationFactor(ctx, opts.replicationFactor);
  const ttl = opts.ttl ?? ctx.options.defaultTtl;
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL) throw new RangeError('options.ttl must be a positive number of ms up to MAX_TTL');
  const now = ctx.clock.now();
  const seq = opts.seq ?? Math.max(0, Math.floor(now));
  const expiresAt = Math.floor(now + ttl);
  const signature = await ctx.pool.sign(keys.secretKey, setEntrySigningPayload(key, seq, expiresAt, value));
  const entry: SetEntry = { publicKey: keys.publicKey, seq, expiresAt, value: value.slice(), signature };
  if (checkEntryShape(entry) !== null) throw new RangeError('entry does not fit the set limits');
  const write: Write = { key, value: encodeSet([entry]), ttl, tokens: new Map(), kind: ValueKind.SET, cas: null, r };
  const result = await publish(ctx, write, opts.signal, started);
  return { ...result, entry };
}

/** Reads the set under `key` from every holder among the closest and merges them, closest holder first. */
export async function getSet(ctx: OperationsContext, key: Key, signal?: AbortSignal): Promise<GetSetResult> {
  const started = ctx.clock.now();
  const accept = async (bytes: Uint8Array): Promise<Uint8Array | null> => {
    const entries = decodeSet(bytes);
    if (entries === null || entries.some((e) => checkEntryShape(e) !== null)) return null;
    const valid = await Promise.all(entries.map((e) => verifyEntry(ctx.pool, key, e)));
    return valid.includes(false) ? null : bytes;
  };
  const lookup = await runLookup(ctx, key, { valueKey: key, signal, collect: true, accept });
  const sets: Array<{ entries: SetEntry[]; from: Contact }> = lookup.found.map((f) => ({ entries: decodeSet(f.value)!, from: f.from }));
  const local = ctx.store?.getCopy(key);
  if (local !== undefined && local.kind === ValueKind.SET) sets.push({ entries: decodeSet(local.value) ?? [], from: ctx.self });
  // Closest holders first, not first answers: a full set keeps its first comers, and writers
  // place entries on the closest nodes, so a far holder filled by a flood must not decide the cap (T24).
  sets.sort((a, b) => compareDistance(key, a.from.id, b.from.id));
  const now = ctx.clock.now();
  let merged: SetEntry[] = [];
  for (const s of sets) merged = mergeSet(merged, s.entries, now, MAX_SET_ENTRIES).entries;
  if (sets.length === 0) throw DhtError.notFound(`set ${idToHex(key)}`);
  return {
    key, entries: liveEntries(merged, now), holders: sets.length, rejected: lookup.rejected, hops: lookup.hops, durationMs: ctx.clock.now() - started,
  };
}
