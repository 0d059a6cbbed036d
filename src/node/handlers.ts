/**
 * Answers to the Kademlia requests and GET_RECORD. Each handler is small and synchronous but
 * STORE, which checks the write token, hashes the value (in the pool above its threshold) and
 * acknowledges only after the LMDB write is committed. NODES and VALUE answers carry a write
 * token for the asked key (BEP 5), empty from a node that stores nothing.
 */
import type { CryptoPool } from '../crypto/index.js';
import type { Key, NodeId } from '../id/index.js';
import { idEquals } from '../id/index.js';
import type { RoutingTable } from '../routing/index.js';
import type { Store as ValueStore } from '../storage/index.js';
import { auditProof } from '../replication/index.js';
import { type Address, DhtError, type DhtErrorCode, formatAddress, second } from '../util/index.js';
import { decodeSet, encodeSet, liveEntries } from '../values/index.js';
import { type Audit, type FindValue, type Request, type ResponseBody, type Store, ValueKind } from '../wire/index.js';
import type { ZkPool } from '../zk/index.js';
import { acceptStore, Refusal } from './accept.js';
import type { WriteTokens } from './tokens.js';

export interface HandlerContext {
  readonly table: RoutingTable;
  /** Null on an ephemeral client, which stores nothing. */
  readonly store: ValueStore | null;
  readonly k: number;
  readonly pool: CryptoPool;
  /** Verifies ZkDhtValue proofs. */
  readonly zk: ZkPool;
  readonly tokens: WriteTokens;
  now(): number;
  /** This node's signed record, wire form. */
  record(): Uint8Array;
  /** Counts a STORE refused by its value's check (hash, signature, proof, shape, BUSY); `penalise` marks forgeries. */
  onInvalidStore(from: Address, code: DhtErrorCode, penalise: boolean, sender: NodeId): void;
  /** Counts a STORE refused for a missing, foreign or expired write token. */
  onBadToken(from: Address): void;
  /** A peer audited a record held here, or stored one as a holder: it just checked the record's holders. */
  onPeerCheck?(key: Key): void;
}

const NO_TOKEN = new Uint8Array(0);

/** Dispatches a request to its handler. */
export function handleRequest(ctx: HandlerContext, request: Request, from: Address): ResponseBody | Promise<ResponseBody> {
  switch (request.type) {
    case 'PING':
      return { type: 'PONG', observed: { host: from.host, port: from.port } };
    case 'FIND_NODE':
      return { type: 'NODES', contacts: closestExcept(ctx, request.target, request.sender), token: token(ctx, from, request.target) };
    case 'FIND_VALUE':
      return findValue(ctx, request, from);
    case 'STORE':
      return store(ctx, request, from);
    case 'GET_RECORD':
      return { type: 'RECORD', record: ctx.record() };
    case 'AUDIT':
      return audit(ctx, request);
  }
}

function closestExcept(ctx: HandlerContext, target: NodeId, requester: NodeId) {
  return ctx.table.closest(target, ctx.k, (e) => !idEquals(e.contact.id, requester));
}

function token(ctx: HandlerContext, from: Address, key: Key): Uint8Array {
  return ctx.store === null ? NO_TOKEN : ctx.tokens.issue(from, key, ctx.now());
}

function findValue(ctx: HandlerContext, request: FindValue, from: Address): ResponseBody {
  const t = token(ctx, from, request.key);
  const found = ctx.store?.get(request.key);
  if (found === undefined) return { type: 'VALUE', value: null, contacts: closestExcept(ctx, request.key, request.sender), token: t };
  // getBinaryFast's buffer is only valid until the next read; the reply is encoded (copied)
  // before this function's caller returns to the event loop, so the view is safe here.
  if (found.kind === ValueKind.IMMUTABLE) {
    // Larger than the asker wants inline: say so, and it fetches from one of the holders it met.
    const size = found.value.byteLength;
    if (size > (request.inline ?? Infinity)) return { type: 'VALUE', value: null, contacts: [], token: t, held: size };
    return { type: 'VALUE', value: found.value, contacts: [], token: t };
  }
  // Mutable records, sets and ZK values are read from several holders (quorum, merge, highest
  // nonce): the reader goes on past this one, so it gets contacts too. Expired set entries are
  // never served (T24).
  const value = found.kind === ValueKind.SET ? liveSet(found.value, ctx.now()) : new Uint8Array(found.value);
  return { type: 'VALUE', value, contacts: closestExcept(ctx, request.key, request.sender), token: t };
}

function liveSet(bytes: Uint8Array, now: number): Uint8Array | null {
  const entries = decodeSet(bytes);
  const live = entries === null ? [] : liveEntries(entries, now);
  return live.length === 0 ? null : encodeSet(live);
}

async function audit(ctx: HandlerContext, request: Audit): Promise<ResponseBody> {
  const found = ctx.store?.getCopy(request.key);
  if (found === undefined) return { type: 'AUDIT_PROOF', proof: NO_TOKEN };
  ctx.onPeerCheck?.(request.key);
  return { type: 'AUDIT_PROOF', proof: await auditProof(ctx.pool, request.nonce, request.key, found.value) };
}

async function store(ctx: HandlerContext, request: Store, from: Address): Promise<ResponseBody> {
  if (ctx.store === null) throw new DhtError('BAD_REQUEST', 'this node is an ephemeral client and stores nothing');
  // Cheap checks before any hashing: a STORE without a token from an earlier query is refused.
  if (!ctx.tokens.verify(request.token, from, request.key, ctx.now())) {
    ctx.onBadToken(from);
    throw DhtError.badToken(formatAddress(from));
  }
  let accepted;
  try {
    const store = ctx.store;
    accepted = await acceptStore({ crypto: ctx.pool, zk: ctx.zk }, request, ctx.now(), () => store.getCopy(request.key));
  } catch (err) {
    if (err instanceof Refusal) ctx.onInvalidStore(from, err.code, err.penalise, request.sender);
    throw err;
  }
  await ctx.store.put({
    key: request.key, value: accepted.value, ttl: request.ttl * second, origin: formatAddress(from),
    kind: request.kind ?? ValueKind.IMMUTABLE, replicas: request.replicas ?? 0, decide: accepted.decide,
  });
  if ((request.replicas ?? 0) > 0) ctx.onPeerCheck?.(request.key); // a cached copy (replicas 0) is no holder's check
  return { type: 'STORED', free: Math.max(0, ctx.store.stats().capBytes - ctx.store.stats().bytes) };
}
