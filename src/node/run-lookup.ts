/**
 * The node's iterative lookups over the network: seeds from the routing table, queries over RPC
 * with FIND_NODE or FIND_VALUE, checks every value served, and feeds outcomes back to the
 * maintainer, reputation and metrics. The state machine itself is src/lookup (sans-IO).
 */
import type { Contact, Id, Key } from '../id/index.js';
import { idToHex } from '../id/index.js';
import { driveLookup, Lookup, type LookupResult, type QueryAnswer } from '../lookup/index.js';
import type { ReputationBook } from '../reputation/index.js';
import { bytesEqual, DhtError, INLINE_VALUE_BYTES, LOOKUP_SEED_FACTOR } from '../util/index.js';
import type { OperationsContext, TokenMap } from './context.js';

/** How a lookup runs: FIND_VALUE when `valueKey` is set; `accept` checks each value served. */
export interface LookupRun {
  valueKey?: Key | null;
  signal?: AbortSignal;
  /** Filled with the write token of every node that answered (for a STORE next). */
  tokens?: TokenMap;
  /** Keep going after the first value and collect all (mutable records, sets). */
  collect?: boolean;
  accept?: (value: Uint8Array, from: Contact) => Promise<Uint8Array | null>;
}

/** Runs an iterative lookup for `target` (FIND_NODE, or FIND_VALUE when `run.valueKey` is set). */
export function runLookup(ctx: OperationsContext, target: Id, run: LookupRun = {}): Promise<LookupResult> {
  const { options } = ctx;
  const valueKey = run.valueKey ?? null;
  // Routing reads reputation: peers scored bad (poisoners, failed audits, protocol violations)
  // are neither started from nor followed, so a known poisoner costs a lookup nothing.
  const now = ctx.clock.now();
  const good = (c: Contact): boolean => !isHostile(ctx.reputation, c, now);
  const seeds = ctx.table.closest(target, LOOKUP_SEED_FACTOR * options.k, (e) => good(e.contact));
  const lookup = new Lookup({ target, k: options.k, alpha: options.alpha, self: ctx.self.id }, seeds);
  // A query runs to its own timeout even once the lookup has moved past the peer (slow) or
  // ended: a dead peer's silence must count against it, or it never leaves the table and costs
  // every later lookup a slow interval (Kang et al. 2009); a slow peer's late answer refreshes
  // it. Only the caller's signal cancels queries; the driver ignores answers after it ends.
  // A plain read asks for small values inline; a larger one is fetched from one holder (`fetch`),
  // not sent by every holder asked at once. Collecting reads (records, sets) take every copy.
  const inline = valueKey !== null && run.collect !== true ? INLINE_VALUE_BYTES : undefined;
  const failed = (contact: Contact, err: unknown): void => {
    if (run.signal?.aborted === true) return;
    ctx.onOutcome(false);
    if (err instanceof DhtError && err.code === 'TIMEOUT') {
      ctx.onPeerFailed(contact);
      ctx.reputation.record(contact.id, 'rpc_timeout', ctx.clock.now());
    }
  };
  const query = async (contact: Contact): Promise<QueryAnswer> => {
    try {
      const raw = await queryOne(ctx, contact, target, valueKey, run.signal, run.tokens, inline);
      const answer = { ...raw, closer: raw.closer.filter(good) };
      ctx.onOutcome(true);
      ctx.reputation.record(contact.id, 'rpc_ok', ctx.clock.now());
      return answer;
    } catch (err) {
      failed(contact, err);
      throw err;
    }
  };
  const fetch = valueKey === null ? undefined : async (contact: Contact, signal: AbortSignal): Promise<Uint8Array | null> => {
    try {
      const reply = await ctx.rpc.request(contact, { type: 'FIND_VALUE', key: valueKey }, { signal });
      return reply.type === 'VALUE' ? reply.value : null;
    } catch (err) {
      if (!signal.aborted) failed(contact, err);
      throw err;
    }
  };
  const check = valueKey === null ? undefined : (run.accept ?? contentCheck(ctx, valueKey));
  // A holder that serves bytes failing their check is penalised: poisoning (T21).
  const accept = check === undefined ? undefined : async (value: Uint8Array, from: Contact) => {
    const kept = await check(value, from);
    if (kept === null) ctx.reputation.record(from.id, 'invalid_value', ctx.clock.now());
    return kept;
  };
  // A FIND_VALUE that found nothing yet waits for holders still answering (large values are slow).
  const awaitInFlight = valueKey !== null && run.collect !== true;
  const driven = driveLookup(lookup, query, { clock: ctx.clock, timeout: options.lookupTimeout, signal: run.signal, accept, collect: run.collect, awaitInFlight, fetch });
  if (ctx.onLookup === undefined) return driven;
  const kind = valueKey === null ? 'node' : 'value';
  return driven.then(
    (result) => { ctx.onLookup?.(kind, ctx.clock.now() - now, result); return result; },
    (err: unknown) => { ctx.onLookup?.(kind, ctx.clock.now() - now, null); throw err; },
  );
}

/**
 * A peer lookups avoid: scored bad *and* caught serving forged values, failing audits or
 * violating the protocol. Timeouts alone never exclude a peer here (the routing table already
 * drops peers that keep failing): on a loaded machine a few slow answers must not cut a small
 * network's lookups off from the holders.
 */
function isHostile(book: ReputationBook, c: Contact, now: number): boolean {
  if (!book.isBad(c.id, now)) return false;
  const e = book.get(c.id, now)?.events;
  return e !== undefined && e.invalid_value + e.protocol_violation + e.audit_fail + e.contract_audit_fail > 0;
}

async function queryOne(
  ctx: OperationsContext, contact: Contact, target: Id, valueKey: Key | null, signal: AbortSignal | undefined, tokens: TokenMap | undefined, inline: number | undefined,
): Promise<QueryAnswer> {
  if (valueKey === null) {
    const reply = await ctx.rpc.request(contact, { type: 'FIND_NODE', target }, { signal });
    if (reply.type !== 'NODES') return { closer: [] };
    tokens?.set(idToHex(contact.id), reply.token);
    return { closer: reply.contacts };
  }
  const reply = await ctx.rpc.request(contact, { type: 'FIND_VALUE', key: valueKey, inline }, { signal });
  if (reply.type !== 'VALUE') return { closer: [] };
  tokens?.set(idToHex(contact.id), reply.token);
  return { closer: reply.contacts, value: reply.value, held: (reply.held ?? 0) > 0 };
}

/** Immutable content: keep a value only when it hashes to the key. Values arrive in their own buffers. */
function contentCheck(ctx: OperationsContext, key: Key) {
  return async (value: Uint8Array): Promise<Uint8Array | null> => {
    const { digest, data } = await ctx.pool.hash(value);
    return bytesEqual(digest, key) ? data : null;
  };
}
