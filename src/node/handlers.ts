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
import { type Address, bytesEqual, DhtError, formatAddress, second } from '../util/index.js';
import type { FindValue, Request, ResponseBody, Store } from '../wire/index.js';
import type { WriteTokens } from './tokens.js';

export interface HandlerContext {
  readonly table: RoutingTable;
  /** Null on an ephemeral client, which stores nothing. */
  readonly store: ValueStore | null;
  readonly k: number;
  readonly pool: CryptoPool;
  readonly tokens: WriteTokens;
  now(): number;
  /** This node's signed record, wire form. */
  record(): Uint8Array;
  /** Counts a STORE refused because its value does not hash to its key. */
  onInvalidStore(from: Address): void;
  /** Counts a STORE refused for a missing, foreign or expired write token. */
  onBadToken(from: Address): void;
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
  }
}

function closestExcept(ctx: HandlerContext, target: NodeId, requester: NodeId) {
  return ctx.table.closest(target, ctx.k, (e) => !idEquals(e.contact.id, requester));
}

function token(ctx: HandlerContext, from: Address, key: Key): Uint8Array {
  return ctx.store === null ? NO_TOKEN : ctx.tokens.issue(from, key, ctx.now());
}

function findValue(ctx: HandlerContext, request: FindValue, from: Address): ResponseBody {
  const found = ctx.store?.get(request.key);
  const t = token(ctx, from, request.key);
  // getBinaryFast's buffer is only valid until the next read; the reply is encoded (copied)
  // before this function's caller returns to the event loop, so the view is safe here.
  if (found !== undefined) return { type: 'VALUE', value: found.value, contacts: [], token: t };
  return { type: 'VALUE', value: null, contacts: closestExcept(ctx, request.key, request.sender), token: t };
}

async function store(ctx: HandlerContext, request: Store, from: Address): Promise<ResponseBody> {
  if (ctx.store === null) throw new DhtError('BAD_REQUEST', 'this node is an ephemeral client and stores nothing');
  // Cheap checks before any hashing: a STORE without a token from an earlier query is refused.
  if (!ctx.tokens.verify(request.token, from, request.key, ctx.now())) {
    ctx.onBadToken(from);
    throw DhtError.badToken(formatAddress(from));
  }
  // Immutable content only: the key must be the BLAKE3 of the value. The decoder gave the value
  // its own buffer, so the pool may take it and hand it back without a copy.
  const { digest, data } = await ctx.pool.hash(request.value);
  if (!bytesEqual(digest, request.key)) {
    ctx.onInvalidStore(from);
    throw DhtError.invalidContent(`value from ${formatAddress(from)}`);
  }
  await ctx.store.put({ key: request.key, value: data, ttl: request.ttl * second, origin: formatAddress(from) });
  return { type: 'STORED' };
}

