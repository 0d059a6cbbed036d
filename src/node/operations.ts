/**
 * The node's user operations on immutable content: put stores BLAKE3-addressed content on the
 * r closest responsive nodes, get finds it with FIND_VALUE, re-hashes what it receives, skips
 * poisoned holders and caches the value at the closest node on the path that lacked it; publish
 * and storeOne are the write path shared by records, sets and ZK values.
 */
import type { Contact, Id, Key } from '../id/index.js';
import { compareDistance, idEquals, idToHex } from '../id/index.js';
import type { LookupResult } from '../lookup/index.js';
import { placementOrder } from '../replication/index.js';
import { SELF_SOURCE } from '../storage/index.js';
import {
  bytesEqual, DhtError, type DhtErrorCode, MAX_REPLICATION_FACTOR, MAX_VALUE_BYTES, MIN_REPLICATION_FACTOR, second,
} from '../util/index.js';
import { ValueKind } from '../wire/index.js';
import { acceptStore } from './accept.js';
import type { OperationsContext, TokenMap } from './context.js';
import { runLookup } from './run-lookup.js';

const NO_TOKEN = new Uint8Array(0);

/** Where a put landed. */
export interface PutResult {
  key: Key;
  /** Nodes that acknowledged a committed write (this node included when it holds a replica). */
  replicas: Contact[];
  /** Request rounds of the lookup for the key's closest nodes. */
  hops: number;
  durationMs: number;
}

/** A value found by get. */
export interface GetResult {
  key: Key;
  value: Uint8Array;
  /** The node that served it (this node for a local hit). */
  from: Contact;
  hops: number;
  durationMs: number;
  /** Answers whose bytes did not hash to the key and were thrown away. */
  rejected: number;
}

export interface PutOptions {
  /** Lifetime in ms; default the node's defaultTtl. */
  ttl?: number;
  /** Replicas wanted, 3..12; default the node's replicationFactor. */
  replicationFactor?: number;
  signal?: AbortSignal;
}

/** The replication factor to use: the option, checked, or the node's default. */
export function replicationFactor(ctx: OperationsContext, r: number | undefined): number {
  const v = r ?? ctx.options.replicationFactor;
  if (!Number.isInteger(v) || v < MIN_REPLICATION_FACTOR || v > MAX_REPLICATION_FACTOR) {
    throw new RangeError('options.replicationFactor must be an integer in 3..12');
  }
  return v;
}

/** Stores `content` under BLAKE3(content) on the r closest responsive nodes. */
export async function put(ctx: OperationsContext, content: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
  const started = ctx.clock.now();
  if (content.byteLength > MAX_VALUE_BYTES) throw DhtError.valueTooBig(content.byteLength, MAX_VALUE_BYTES);
  const r = replicationFactor(ctx, opts.replicationFactor);
  // Hash a copy: the caller keeps its buffer (the pool would otherwise take it over).
  const { digest, data } = await ctx.pool.hash(content.slice());
  const key = digest as Key;
  const write: Write = { key, value: data, ttl: opts.ttl ?? ctx.options.defaultTtl, tokens: new Map(), kind: ValueKind.IMMUTABLE, cas: null, r };
  return publish(ctx, write, opts.signal, started);
}

/** One value to write, with the write tokens its lookup collected. */
export interface Write {
  key: Key;
  value: Uint8Array;
  /** Lifetime in ms. */
  ttl: number;
  tokens: TokenMap;
  kind: ValueKind;
  cas: number | null;
  r: number;
  /**
   * Keep a publisher's copy here even when this node is not among the holders, so it can
   * republish (docs/replication.md). Default true; chunks of large content set it false.
   */
  keepLocal?: boolean;
}

/**
 * Looks up the key's closest nodes (collecting write tokens) unless `found` already holds such
 * a lookup, then writes to r of them in placement order. Rejects with the holders' refusal when
 * every one refused for the same reason (e.g. SEQ_TOO_LOW), else STORE_FAILED.
 */
export async function publish(ctx: OperationsContext, write: Write, signal?: AbortSignal, started = ctx.clock.now(), found?: LookupResult): Promise<PutResult> {
  const lookup = found ?? await runLookup(ctx, write.key, { signal, tokens: write.tokens });
  const candidates = [...lookup.closest];
  if (ctx.store !== null) candidates.push(ctx.self);
  const now = ctx.clock.now();
  const order = placementOrder({
    key: write.key, candidates, r: write.r, size: write.value.byteLength,
    isBad: (c) => ctx.reputation.isBad(c.id, now), fits: (c) => ctx.capacity.fits(c.id, write.value.byteLength, now),
  });
  const { replicas, refusals } = await storeOnFirst(ctx, order, write);
  const conflict = refusals.find((code) => CONFLICTS.has(code));
  if (conflict !== undefined) throw new DhtError(conflict, `a holder refused ${idToHex(write.key)}: ${conflict} (stored on ${replicas.length} before it)`);
  if (replicas.length > 0 && ctx.store !== null && write.keepLocal !== false && !replicas.some((c) => idEquals(c.id, ctx.self.id))) {
    await storeLocally(ctx, write).catch(() => {}); // the publisher's copy is a convenience: full or refused here changes nothing for the holders
  }
  if (replicas.length === 0) {
    const codes = new Set(refusals);
    if (codes.size === 1 && refusals.length > 0) throw new DhtError([...codes][0]!, `every holder refused ${idToHex(write.key)}: ${[...codes][0]}`);
    throw DhtError.storeFailed(idToHex(write.key), candidates.length === 0 ? 'no peers' : 'every candidate refused or timed out');
  }
  return { key: write.key, replicas, hops: lookup.hops, durationMs: ctx.clock.now() - started };
}

/** Writes to candidates in the given order, r at a time, until r acknowledged or none is left. */
async function storeOnFirst(ctx: OperationsContext, candidates: Contact[], write: Write): Promise<{ replicas: Contact[]; refusals: DhtErrorCode[] }> {
  const replicas: Contact[] = [];
  const refusals: DhtErrorCode[] = [];
  let next = 0;
  let pending = 0;
  let conflict = false;
  const worker = async (): Promise<void> => {
    // Writes in flight count as replicas to come: otherwise a worker done early (this node's own
    // copy) starts another write while the others are in flight, leaving up to 2r - 1 copies.
    while (!conflict && replicas.length + pending < write.r && next < candidates.length) {
      const c = candidates[next++]!;
      pending++;
      const outcome = await storeOne(ctx, c, write);
      pending--;
      if (outcome === 'stored') replicas.push(c);
      else if (outcome !== 'failed') refusals.push(outcome);
      // A holder has a newer record or another value at this seq: writing ours to nodes further
      // away would only plant an outdated record where readers look. Stop and tell the writer.
      if (outcome !== 'stored' && CONFLICTS.has(outcome)) conflict = true;
    }
  };
  await Promise.all(Array.from({ length: write.r }, worker));
  return { replicas: replicas.sort((a, b) => compareDistance(write.key, a.id, b.id)).slice(0, write.r), refusals };
}

/** Refusals meaning the network holds a newer or conflicting mutable record or ZK value. */
const CONFLICTS: ReadonlySet<string> = new Set(['SEQ_TOO_LOW', 'SEQ_REUSED', 'CAS_MISMATCH', 'STALE_NONCE']);

/** Refusals that say something about the value itself rather than about the holder. */
const VALUE_REFUSALS: ReadonlySet<DhtErrorCode> = new Set([
  'SEQ_TOO_LOW', 'SEQ_REUSED', 'CAS_MISMATCH', 'INVALID_SIGNATURE', 'SALT_TOO_BIG', 'VALUE_TOO_BIG', 'SET_FULL', 'INVALID_CONTENT',
  'STALE_NONCE', 'NONCE_OUT_OF_RANGE', 'INVALID_PROOF', 'COMMITMENT_MISMATCH',
]);

/** Sends one STORE (or writes locally); 'stored', a value-level refusal code, or 'failed'. */
export async function storeOne(ctx: OperationsContext, c: Contact, write: Write): Promise<'stored' | 'failed' | DhtErrorCode> {
  const { key, value, ttl, kind, cas, r } = write;
  const now = ctx.clock.now();
  try {
    if (idEquals(c.id, ctx.self.id)) {
      await storeLocally(ctx, write);
      return 'stored';
    }
    const token = write.tokens.get(idToHex(c.id)) ?? NO_TOKEN; // none: the peer refuses, we move on
    const reply = await ctx.rpc.request(c, { type: 'STORE', key, value, ttl: Math.max(1, Math.round(ttl / second)), token, kind, cas, replicas: r });
    ctx.onOutcome(true);
    if (reply.type !== 'STORED') return 'failed';
    if (reply.free !== undefined) ctx.capacity.observe(c.id, reply.free, now);
    ctx.reputation.record(c.id, 'store_ok', now);
    return 'stored';
  } catch (err) {
    if (!(err instanceof DhtError)) return 'failed';
    if (err.code === 'TIMEOUT') { ctx.onOutcome(false); ctx.onPeerFailed(c); ctx.reputation.record(c.id, 'rpc_timeout', now); }
    if (err.code === 'STORAGE_FULL') { ctx.capacity.refused(c.id, now); ctx.reputation.record(c.id, 'store_full', now); }
    if (VALUE_REFUSALS.has(err.code)) return err.code;
    return 'failed';
  }
}

/** This node's own replica goes through the same checks as a STORE from a peer. */
async function storeLocally(ctx: OperationsContext, write: Write): Promise<void> {
  const request = { type: 'STORE', key: write.key, value: write.value.slice(), ttl: 1, token: NO_TOKEN, kind: write.kind, cas: write.cas, replicas: write.r, tid: 0, sender: ctx.self.id, flags: 0 } as const;
  const accepted = write.kind === ValueKind.IMMUTABLE ? { value: write.value } : await acceptStore({ crypto: ctx.pool, zk: ctx.zk }, request, ctx.clock.now());
  await ctx.store!.put({ key: write.key, value: accepted.value, ttl: write.ttl, origin: SELF_SOURCE, kind: write.kind, replicas: write.r, decide: accepted.decide });
}

/** Finds the content stored under `key`, verifying that it hashes to the key. */
export async function get(ctx: OperationsContext, key: Key, signal?: AbortSignal, cache = true): Promise<GetResult> {
  const started = ctx.clock.now();
  const local = ctx.store?.getCopy(key);
  if (local !== undefined && local.kind === ValueKind.IMMUTABLE) {
    const { digest, data } = await ctx.pool.hash(local.value);
    if (bytesEqual(digest, key)) return { key, value: data, from: ctx.self, hops: 0, durationMs: ctx.clock.now() - started, rejected: 0 };
  }
  const tokens: TokenMap = new Map();
  const found = await runLookup(ctx, key, { valueKey: key, signal, tokens });
  if (found.value === null || found.valueFrom === null) throw DhtError.notFound(`key ${idToHex(key)}`);
  if (cache) cacheOnPath(ctx, found, { key, value: found.value, ttl: 0, tokens, kind: ValueKind.IMMUTABLE, cas: null, r: 0 });
  return { key, value: found.value, from: found.valueFrom, hops: found.hops, durationMs: ctx.clock.now() - started, rejected: found.rejected };
}

/** Kademlia §2.3: store the value at the closest node on the lookup path that lacked it. */
function cacheOnPath(ctx: OperationsContext, found: LookupResult, write: Write): void {
  const { key, value } = write;
  const target = found.lacking[0];
  const token = target === undefined ? undefined : write.tokens.get(idToHex(target.id));
  if (target === undefined || token === undefined || token.byteLength === 0) return;
  // A cached copy lives a quarter of a primary's TTL: it only shortcuts popular lookups.
  const ttl = Math.max(1, Math.round(ctx.options.defaultTtl / 4 / second));
  ctx.rpc.request(target, { type: 'STORE', key, value, ttl, token, kind: ValueKind.IMMUTABLE, cas: null, replicas: 0 }).then(
    () => {},
    () => {}, // best effort: a refused or lost cache write changes nothing for the reader
  );
}
