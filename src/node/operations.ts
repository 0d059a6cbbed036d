/**
 * The node's user operations on immutable content: put stores BLAKE3-addressed content on the
 * r closest responsive nodes, get finds it with FIND_VALUE, re-hashes what it receives, skips
 * poisoned holders and caches the value at the closest node on the path that lacked it.
 */
import type { CryptoPool } from '../crypto/index.js';
import type { Contact, Id, Key } from '../id/index.js';
import { compareDistance, idEquals, idToHex } from '../id/index.js';
import { driveLookup, Lookup, type LookupResult, type QueryAnswer } from '../lookup/index.js';
import type { RoutingTable } from '../routing/index.js';
import type { Rpc } from '../rpc/index.js';
import type { Store as ValueStore } from '../storage/index.js';
import { bytesEqual, type Clock, DhtError, MAX_VALUE_BYTES, second } from '../util/index.js';
import type { ResolvedOptions } from './options.js';

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

export interface OperationsContext {
  readonly self: Contact;
  readonly table: RoutingTable;
  readonly rpc: Rpc;
  readonly store: ValueStore | null;
  readonly pool: CryptoPool;
  readonly clock: Clock;
  readonly options: ResolvedOptions;
  /** Tells the maintainer a peer failed a request. */
  onPeerFailed(contact: Contact): void;
  /** Records a request outcome for networkHealth. */
  onOutcome(ok: boolean): void;
}

/** Write tokens collected in a lookup: node id (hex) → the token it gave us for the target. */
export type TokenMap = Map<string, Uint8Array>;

/**
 * Runs an iterative lookup for `target`; FIND_VALUE when `valueKey` is set. When `tokens` is
 * given, the write token of every node that answered is recorded there (for a STORE next).
 */
export function runLookup(ctx: OperationsContext, target: Id, valueKey: Key | null, signal?: AbortSignal, tokens?: TokenMap): Promise<LookupResult> {
  const { options } = ctx;
  const lookup = new Lookup({ target, k: options.k, alpha: options.alpha, self: ctx.self.id }, ctx.table.closest(target, options.k));
  const query = async (contact: Contact, querySignal: AbortSignal): Promise<QueryAnswer> => {
    try {
      if (valueKey === null) {
        const reply = await ctx.rpc.request(contact, { type: 'FIND_NODE', target }, { signal: querySignal });
        ctx.onOutcome(true);
        if (reply.type !== 'NODES') return { closer: [] };
        tokens?.set(idToHex(contact.id), reply.token);
        return { closer: reply.contacts };
      }
      const reply = await ctx.rpc.request(contact, { type: 'FIND_VALUE', key: valueKey }, { signal: querySignal });
      ctx.onOutcome(true);
      if (reply.type === 'VALUE') tokens?.set(idToHex(contact.id), reply.token);
      return reply.type === 'VALUE' ? { closer: reply.contacts, value: reply.value } : { closer: [] };
    } catch (err) {
      if (!querySignal.aborted) {
        ctx.onOutcome(false);
        if (err instanceof DhtError && err.code === 'TIMEOUT') ctx.onPeerFailed(contact);
      }
      throw err;
    }
  };
  // Values arrive in their own buffers (the decoder copies them): the pool may take them.
  const accept = valueKey === null ? undefined : async (value: Uint8Array) => {
    const { digest, data } = await ctx.pool.hash(value);
    return bytesEqual(digest, valueKey) ? data : null;
  };
  return driveLookup(lookup, query, { clock: ctx.clock, timeout: options.lookupTimeout, signal, accept });
}

/** Stores `content` under BLAKE3(content) on the r closest responsive nodes. */
export async function put(ctx: OperationsContext, content: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
  const started = ctx.clock.now();
  if (content.byteLength > MAX_VALUE_BYTES) throw DhtError.valueTooBig(content.byteLength, MAX_VALUE_BYTES);
  const r = opts.replicationFactor ?? ctx.options.replicationFactor;
  if (!Number.isInteger(r) || r < 3 || r > 12) throw new RangeError('options.replicationFactor must be an integer in 3..12');
  const ttl = opts.ttl ?? ctx.options.defaultTtl;
  // Hash a copy: the caller keeps its buffer (the pool would otherwise take it over).
  const { digest, data } = await ctx.pool.hash(content.slice());
  const key = digest as Key;
  content = data;
  const tokens: TokenMap = new Map();
  const found = await runLookup(ctx, key, null, opts.signal, tokens);
  const candidates = [...found.closest];
  if (ctx.store !== null) candidates.push(ctx.self);
  candidates.sort((a, b) => compareDistance(key, a.id, b.id));
  const replicas = await storeOnFirst(ctx, candidates, { key, value: content, ttl, tokens }, r);
  if (replicas.length === 0) throw DhtError.storeFailed(idToHex(key), candidates.length === 0 ? 'no peers' : 'every candidate refused or timed out');
  return { key, replicas, hops: found.hops, durationMs: ctx.clock.now() - started };
}

/** One value to write, with the write tokens its lookup collected. */
interface Write { key: Key; value: Uint8Array; ttl: number; tokens: TokenMap }

/** Writes to candidates in distance order, r at a time, until r acknowledged or none is left. */
async function storeOnFirst(ctx: OperationsContext, candidates: Contact[], write: Write, r: number): Promise<Contact[]> {
  const replicas: Contact[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (replicas.length < r && next < candidates.length) {
      const c = candidates[next++]!;
      if (await storeOne(ctx, c, write)) replicas.push(c);
    }
  };
  await Promise.all(Array.from({ length: r }, worker));
  return replicas.sort((a, b) => compareDistance(write.key, a.id, b.id)).slice(0, r);
}

async function storeOne(ctx: OperationsContext, c: Contact, write: Write): Promise<boolean> {
  const { key, value, ttl } = write;
  try {
    if (idEquals(c.id, ctx.self.id)) {
      await ctx.store!.put({ key, value, ttl, origin: 'self' });
      return true;
    }
    const token = write.tokens.get(idToHex(c.id)) ?? NO_TOKEN; // none: the peer refuses, we move on
    const reply = await ctx.rpc.request(c, { type: 'STORE', key, value, ttl: Math.max(1, Math.round(ttl / second)), token });
    ctx.onOutcome(true);
    return reply.type === 'STORED';
  } catch (err) {
    // A refusal (full, invalid) or a timeout: move on to the next closest candidate.
    if (err instanceof DhtError && err.code === 'TIMEOUT') { ctx.onOutcome(false); ctx.onPeerFailed(c); }
    return false;
  }
}

/** Finds the content stored under `key`, verifying that it hashes to the key. */
export async function get(ctx: OperationsContext, key: Key, signal?: AbortSignal): Promise<GetResult> {
  const started = ctx.clock.now();
  const local = ctx.store?.getCopy(key);
  if (local !== undefined) {
    const { digest, data } = await ctx.pool.hash(local.value);
    if (bytesEqual(digest, key)) return { key, value: data, from: ctx.self, hops: 0, durationMs: ctx.clock.now() - started, rejected: 0 };
  }
  const tokens: TokenMap = new Map();
  const found = await runLookup(ctx, key, key, signal, tokens);
  if (found.value === null || found.valueFrom === null) throw DhtError.notFound(`key ${idToHex(key)}`);
  cacheOnPath(ctx, found, { key, value: found.value, ttl: 0, tokens });
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
  ctx.rpc.request(target, { type: 'STORE', key, value, ttl, token }).then(
    () => {},
    () => {}, // best effort: a refused or lost cache write changes nothing for the reader
  );
}
