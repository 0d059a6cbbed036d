/**
 * Builds the replicator of a node (src/replication) from its lookups, RPCs, pool and books: the
 * targets of a key come from a FIND_NODE lookup (collecting write tokens) put through placement;
 * sends are STOREs with those tokens; audits are AUDIT requests; outcomes feed reputation.
 */
import type { Contact, Key } from '../id/index.js';
import { idToHex } from '../id/index.js';
import { auditProof, placementOrder, Replicator } from '../replication/index.js';
import type { RecordMeta, Store } from '../storage/index.js';
import { DhtError } from '../util/index.js';
import { ValueKind } from '../wire/index.js';
import type { OperationsContext, TokenMap } from './context.js';
import { storeOne } from './operations.js';
import { runLookup } from './run-lookup.js';

/** Tokens of the last lookup per key, kept only between a round's targets() and its sends. */
const MAX_TOKEN_SETS = 1024;

/** A replicator wired to this node's operations. */
export function createReplicator(ctx: OperationsContext, store: Store): Replicator {
  const tokensByKey = new Map<string, TokenMap>();
  const { clock, options } = ctx;
  return new Replicator({
    clock, store, self: ctx.self,
    randomBytes: (n) => options.random.bytes(n),
    targets: async (key, r, size) => {
      const tokens: TokenMap = new Map();
      const found = await runLookup(ctx, key, { tokens });
      tokensByKey.delete(idToHex(key));
      tokensByKey.set(idToHex(key), tokens);
      while (tokensByKey.size > MAX_TOKEN_SETS) tokensByKey.delete(tokensByKey.keys().next().value!);
      const now = clock.now();
      return placementOrder({
        key, candidates: [...found.closest, ctx.self], r, size,
        isBad: (c) => ctx.reputation.isBad(c.id, now), fits: (c) => ctx.capacity.fits(c.id, size, now),
      });
    },
    send: async (c: Contact, key: Key, value: Uint8Array, meta: RecordMeta) => {
      const tokens = tokensByKey.get(idToHex(key)) ?? new Map();
      const outcome = await storeOne(ctx, c, { key, value, ttl: Math.max(1000, meta.expiresAt - clock.now()), tokens, kind: meta.kind, cas: null, r: meta.replicas });
      // A ZK holder refuses any nonce not above its own, the same value included (a replay): it
      // verified a value at this nonce or a newer one before, so it holds the key.
      return outcome === 'stored' || (meta.kind === ValueKind.ZK && outcome === 'STALE_NONCE');
    },
    audit: async (c, key, nonce) => {
      try {
        const reply = await ctx.rpc.request(c, { type: 'AUDIT', key, nonce });
        return reply.type === 'AUDIT_PROOF' ? reply.proof : null;
      } catch (err) {
        if (err instanceof DhtError && err.code === 'TIMEOUT') ctx.onPeerFailed(c);
        return null;
      }
    },
    proof: (nonce, key, value) => auditProof(ctx.pool, nonce, key, value),
    closest: (key, n) => ctx.table.closest(key, n),
    onAudit: (c, outcome) => {
      const now = clock.now();
      if (outcome === 'pass') ctx.reputation.record(c.id, 'audit_pass', now);
      else if (outcome === 'fail') ctx.reputation.record(c.id, 'audit_fail', now);
      else if (outcome === 'silent') ctx.reputation.record(c.id, 'rpc_timeout', now);
    },
  }, { interval: options.repairInterval, republishInterval: options.republishInterval, batch: options.repairBatch });
}
