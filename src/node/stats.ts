/**
 * DhtStats, the node's summary figures (DESIGN.md "Statistics"); each field is defined in
 * docs/stats.md. Also the network-size estimate behind `totalNodes`.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import type { CryptoPool, PoolStats } from '../crypto/index.js';
import type { Contact, NodeId } from '../id/index.js';
import { distance, ID_BYTES } from '../id/index.js';
import type { RoutingTable } from '../routing/index.js';
import type { Rpc, RpcCounters } from '../rpc/index.js';
import type { ReplicationStats } from '../replication/index.js';
import type { ReputationStats } from '../reputation/index.js';
import type { Store } from '../storage/index.js';
import type { ChannelCounters, SecureChannel, Transport, TransportCounters } from '../transport/index.js';
import type { ZkPool, ZkPoolStats } from '../zk/index.js';
import type { NodeContractStats } from './contracts.js';
import type { PoolHandshake } from './handshake.js';
import type { MaintainerCounters, TableMaintainer } from './maintenance.js';
import type { RecordBook, RecordCounters } from './records.js';

/** The node's summary figures. */
export interface DhtStats {
  /** Estimated number of nodes in the network, this one included. */
  totalNodes: number;
  /** Distinct peers that exchanged a message with this node in the last 5 minutes. */
  totalConnections: number;
  /** DHT messages sent since start (requests and replies). */
  totalMessagesSent: number;
  /** Valid DHT messages received since start (requests and matched replies). */
  totalMessagesReceived: number;
  /** Contacts in the routing table. */
  routingTableSize: number;
  /** Stored bytes / storage cap, 0..1 (0 for an ephemeral client). */
  storageUtilization: number;
  /** 0..1: recent request success ratio × routing-table fill (see docs/stats.md). */
  networkHealth: number;
}

/**
 * Estimates the network size from the distances of our closest contacts: in a network of N
 * uniformly spread ids the i-th closest lies at about i / N of the id space. Fits the slope of
 * d_i = i / N by least squares over the closest (up to k) contacts.
 */
export function estimateNetworkSize(self: NodeId, closest: readonly Contact[]): number {
  if (closest.length === 0) return 1;
  let sumIx = 0;
  let sumII = 0;
  closest.forEach((c, idx) => {
    const i = idx + 1;
    const x = fraction(distance(self, c.id));
    sumIx += i * x;
    sumII += i * i;
  });
  if (sumIx === 0) return closest.length + 1;
  const estimate = Math.round(sumII / sumIx);
  return Math.max(estimate, closest.length + 1);
}

/** A distance as a fraction of the id space, from its first 7 bytes (53-bit precision). */
function fraction(d: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < Math.min(7, ID_BYTES); i++) v = v * 256 + d[i]!;
  return v / 2 ** 56;
}

/** Success ratio of the last N requests, 1 when there were none. */
export class SuccessWindow {
  readonly #outcomes: boolean[] = [];
  constructor(private readonly size = 200) {}

  record(ok: boolean): void {
    this.#outcomes.push(ok);
    if (this.#outcomes.length > this.size) this.#outcomes.shift();
  }

  get ratio(): number {
    if (this.#outcomes.length === 0) return 1;
    return this.#outcomes.filter(Boolean).length / this.#outcomes.length;
  }
}

/** Peers heard from recently, for totalConnections; bounded. */
export class ActivePeers {
  readonly #lastSeen = new Map<string, number>();
  readonly #health = new SuccessWindow();

  constructor(private readonly windowMs = 5 * 60_000, private readonly max = 10_000) {}

  seen(id: NodeId, now: number): void {
    const key = Buffer.from(id).toString('hex');
    this.#lastSeen.delete(key);
    this.#lastSeen.set(key, now);
    if (this.#lastSeen.size > this.max) this.#lastSeen.delete(this.#lastSeen.keys().next().value!);
  }

  outcome(ok: boolean): void {
    this.#health.record(ok);
  }

  get successRatio(): number {
    return this.#health.ratio;
  }

  /** Peers seen within the window; drops older entries (insertion order is recency order). */
  count(now: number): number {
    for (const [key, at] of this.#lastSeen) {
      if (now - at <= this.windowMs) break;
      this.#lastSeen.delete(key);
    }
    return this.#lastSeen.size;
  }
}

export interface StatsSources {
  self: Contact;
  table: RoutingTable;
  rpc: Rpc;
  store: Store | null;
  peers: ActivePeers;
  k: number;
  now: number;
  /** Share of the records checked in the last replication round that had all r holders (1 when none). */
  replicated: number;
}

/** Computes DhtStats from the node's parts. */
export function buildStats(s: StatsSources): DhtStats {
  const c = s.rpc.counters();
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const tableSize = s.table.size;
  const totalNodes = estimateNetworkSize(s.self.id, s.table.closest(s.self.id, s.k));
  // A table is full when it holds k contacts, or every other node of a smaller network.
  const fill = Math.min(1, tableSize / Math.min(s.k, Math.max(1, totalNodes - 1)));
  return {
    totalNodes,
    totalConnections: s.peers.count(s.now),
    totalMessagesSent: sum(c.sent),
    totalMessagesReceived: sum(c.received),
    routingTableSize: tableSize,
    storageUtilization: s.store === null ? 0 : Math.round(s.store.stats().utilization * 1e6) / 1e6,
    networkHealth: round3(s.peers.successRatio * fill * s.replicated),
  };
}

/** Every layer's counters, for the API, metrics and tests. */
export interface ExtendedStats {
  transport: TransportCounters;
  /** Sessions: handshakes, sealed traffic, drops by reason, penalties, amplification peak. */
  sessions: ChannelCounters & { rejectedHandshakes: Record<string, number> };
  rpc: RpcCounters;
  routing: {
    size: number;
    buckets: ReturnType<RoutingTable['buckets']>;
    /** Highest per-subnet counts and inbound-only entries (docs/security.md). */
    diversity: ReturnType<RoutingTable['diversity']>;
    /** Contacts the table refused, by limit. */
    rejections: RoutingTable['rejections'];
  };
  storage: ReturnType<Store['stats']> | null;
  /** Repair, audits and republish (docs/replication.md); null on an ephemeral client. */
  replication: ReplicationStats | null;
  /** Reputation book: peers tracked, peers below the bad threshold, lifetime event counts. */
  reputation: ReputationStats;
  maintenance: MaintainerCounters;
  invalidStores: number;
  /** STOREs refused by their value's check, by DhtError code (BUSY counted here, not in invalidStores). */
  storeRefusals: Record<string, number>;
  /** STOREs refused for a missing, foreign or expired write token. */
  badTokens: number;
  /** The crypto worker pool: threads, queue (current, peak, max), utilisation, completed tasks, BUSY count. */
  pool: PoolStats;
  /** The ZK worker pool: threads (0 until its first task), queue, verifications by outcome, proofs. */
  zk: ZkPoolStats;
  /** Contracts: the engine's figures (null until first use), deploys, fetches, discovery drops by reason. */
  contracts: NodeContractStats;
  /** Peer-record verification outcomes. */
  records: RecordCounters;
  /** Main-thread event-loop delay since start, ms (perf_hooks.monitorEventLoopDelay). */
  eventLoop: { p50: number; p99: number; max: number; mean: number };
}

export function extendedStats(p: {
  transport: Transport; channel: SecureChannel; handshake: PoolHandshake; rpc: Rpc; table: RoutingTable; store: Store | null;
  maintainer: TableMaintainer; invalidStores: number; storeRefusals: Record<string, number>; badTokens: number; pool: CryptoPool; zk: ZkPool;
  contracts: NodeContractStats; records: RecordBook; eventLoop: IntervalHistogram;
  replication: ReplicationStats | null; reputation: ReputationStats;
}): ExtendedStats {
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const h = p.eventLoop;
  return {
    transport: p.transport.counters(),
    sessions: { ...p.channel.channelCounters(), rejectedHandshakes: { ...p.handshake.rejections } },
    rpc: p.rpc.counters(),
    routing: {
      size: p.table.size, buckets: p.table.buckets().filter((b) => b.size > 0 || b.replacements > 0),
      diversity: p.table.diversity(), rejections: { ...p.table.rejections },
    },
    storage: p.store?.stats() ?? null,
    replication: p.replication,
    reputation: p.reputation,
    maintenance: { ...p.maintainer.counters },
    invalidStores: p.invalidStores,
    storeRefusals: { ...p.storeRefusals },
    badTokens: p.badTokens,
    pool: p.pool.stats(),
    zk: p.zk.stats(),
    contracts: p.contracts,
    records: { ...p.records.counters },
    eventLoop: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
