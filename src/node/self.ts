/**
 * What a node knows of itself before it joins: its keys (from the options, the data folder, or
 * made for this run) and its signed record (keys, bound address, a fresh seq, capabilities).
 */
import {
  type CryptoPool, ephemeralIdentity, loadOrCreateIdentity, type NodeIdentity, type NodeRecord, signNodeRecord,
} from '../crypto/index.js';
import type { Store } from '../storage/index.js';
import type { Address } from '../util/index.js';
import { PROTOCOL_VERSION } from '../wire/index.js';
import type { ResolvedOptions } from './options.js';

/** The node's keys: the given identity, `<dataDir>/identity.key` (created on first start), or ephemeral ones. */
export async function selfIdentity(o: ResolvedOptions, pool: CryptoPool): Promise<NodeIdentity> {
  // Keys come from the node's random source, so a seeded simulator or test is reproducible. The
  // seed is drawn even when unused, so every later draw is the same whichever identity is used.
  const seed = o.random.bytes(96);
  if (o.identity !== null) return o.identity;
  return o.dataDir !== null && !o.ephemeral ? loadOrCreateIdentity(o.dataDir, pool, seed) : ephemeralIdentity(pool, seed);
}

/** Signs the node's record: its keys, bound address (when specific), a fresh seq, capabilities. */
export function signSelfRecord(o: ResolvedOptions, identity: NodeIdentity, pool: CryptoPool, local: Address, store: Store | null): Promise<{ record: NodeRecord; bytes: Uint8Array }> {
  const unspecified = local.host === '0.0.0.0' || local.host === '::';
  const free = store === null ? 0 : Math.max(0, o.storageCap - store.stats().bytes);
  return signNodeRecord(identity, pool, {
    addresses: unspecified ? [] : [local],
    seq: Math.max(1, Math.floor(o.clock.now())),
    capabilities: { freeStorage: free, bandwidthClass: o.bandwidthClass, protocolVersion: PROTOCOL_VERSION },
  });
}
