/**
 * Options of a DhtNode, their defaults and their validation. Every message names the option
 * (`options.replicationFactor must be an integer in 3..12`), as piscina does.
 */
import type { CryptoPool, CryptoPoolInit, NodeIdentity } from '../crypto/index.js';
import type { ContractEngineInit } from '../contracts/index.js';
import type { ZkPool, ZkPoolInit } from '../zk/index.js';
import { type PenaltyEvent, type RateLimitsInit, resolveRateLimits, type SecureChannelInit } from '../transport/index.js';
import {
  type Address, type Clock, DEFAULT_STORAGE_CAP, DEFAULT_TTL, DHT_PORT, DHT_REPLICATION_FACTOR,
  K_BUCKET_SIZE, LOOKUP_ALPHA, LOOKUP_TIMEOUT, type Logger, MAX_REPLICATION_FACTOR, MAX_TTL,
  MIN_REPLICATION_FACTOR, PING_TIMEOUT, QUERY_TIMEOUT, REQUEST_RETRIES, type Random, parseAddress,
  silentLogger, systemClock, systemRandom, BUCKET_REFRESH_INTERVAL, minute, second, MiB,
} from '../util/index.js';

/**
 * Options of the node's contract engine (src/contracts): threads, maxQueue, batchSize, callTimeout,
 * niceIncrement, meter. Its folder is `<dataDir>/contracts`; it opens with the first use.
 */
export type ContractsInit = Omit<ContractEngineInit, 'path' | 'lazy'> & {
  /**
   * Hold and execute instances for peers: answer their calls, queries, installs, updates and
   * state syncs (docs/contracts.md, "Part 2b"). Default true; false keeps the engine for this
   * node's own use (deploys, its calls routed to other holders) and answers peers DISABLED.
   */
  serve?: boolean;
  /** As a follower, execute every replicated call again and compare before applying it. Default true. */
  audit?: boolean;
};

/** Everything a DhtNode can be told. All fields are optional but `dataDir` (unless ephemeral). */
export interface DhtNodeOptions {
  /** Interface to bind. Default '0.0.0.0'; use '::' for IPv6. */
  host?: string;
  /** UDP port. Default DHT_PORT (33442); 0 picks a free port. */
  port?: number;
  /** Folder for the LMDB store and the node id. Required unless `ephemeral`. */
  dataDir?: string;
  /** Peers to join through, as addresses or `host:port` strings. */
  bootstrap?: ReadonlyArray<Address | string>;
  /** A client that stores nothing and stays out of other nodes' routing tables. */
  ephemeral?: boolean;
  /** Keys to use instead of `<dataDir>/identity.key` (tests, embedding). */
  identity?: NodeIdentity;
  /** A crypto pool shared with other nodes (a testnet); the node then neither creates nor closes one. */
  cryptoPool?: CryptoPool;
  /** Options of the node's own crypto pool (threads, maxQueue, batchSize, hashThreshold). */
  crypto?: CryptoPoolInit;
  /** A ZK pool shared with other nodes (a testnet); the node then neither creates nor closes one. */
  zkPool?: ZkPool;
  /** Options of the node's own ZK pool, whose threads start on first use (a ZK STORE, putZk, getZk). */
  zk?: ZkPoolInit;
  /**
   * The contract engine (docs/contracts.md): true or engine options to run one, false for none.
   * Default true. The engine's folder, meter thread and execution threads are made with the first
   * deploy, code fetch or instance, so a node that never runs a contract pays nothing for it. An
   * ephemeral client has none. findContracts and contractInfo only read the DHT and work either way.
   */
  contracts?: boolean | ContractsInit;
  /** Bandwidth class advertised in the node record, 0..255. Default 1. */
  bandwidthClass?: number;
  k?: number;
  alpha?: number;
  /** Replicas per value, 3..12. Default 3. */
  replicationFactor?: number;
  pingTimeout?: number;
  queryTimeout?: number;
  retries?: number;
  lookupTimeout?: number;
  /** Stored bytes at most. Default 1 GiB. */
  storageCap?: number;
  /** TTL of values put without one, ms. Default 2 h. */
  defaultTtl?: number;
  /** Idle time after which a bucket is refreshed, ms. Default 1 h. */
  refreshInterval?: number;
  /** How often maintenance (refresh check, snapshot) runs, ms. Default 1 min. */
  maintenanceInterval?: number;
  /** How often a replication round (repair, audits, republish) runs, ms. Default 10 min. */
  repairInterval?: number;
  /** How often a publisher re-sends its own records to their holders, ms. Default 1 h (Kademlia). */
  republishInterval?: number;
  /** Records checked per replication round at most. Default 256. */
  repairBatch?: number;
  /** Bytes one source IP may store here; default storageCap / 8 (docs/replication.md, quotas). */
  perSourceBytes?: number;
  /** Ceiling on the LMDB file, bytes; default 2 × storageCap + 64 MiB (src/storage options). */
  storageMapSize?: number;
  /**
   * Per-host, per-subnet and global limits on incoming datagrams, checked before any decode
   * (docs/security.md). Missing fields take the defaults; `false` disables the limits. Default {}.
   */
  rateLimits?: Partial<RateLimitsInit> | false;
  /**
   * Test-only flag: loopback addresses count as public for rate limits and IP-diversity limits,
   * so tests on 127.x.y.z are not vacuous. Otherwise loopback (the operator's own host) is exempt.
   * Default false.
   */
  treatLoopbackAsPublic?: boolean;
  /** Session tuning: cache capacity, handshake timeouts, probe cooldown, bans (docs/security.md). */
  sessions?: SecureChannelInit;
  /** Told of every peer penalised for misbehaviour (forged handshake, garbage in a session…): a reputation hook. */
  onPenalty?: (event: PenaltyEvent) => void;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/** Options with every default filled in. */
export interface ResolvedOptions extends Required<Omit<DhtNodeOptions, 'dataDir' | 'identity' | 'bootstrap' | 'cryptoPool' | 'zkPool' | 'contracts'>> {
  /** The engine's options, or null when the node runs no contract engine (disabled, or ephemeral). */
  contracts: ContractsInit | null;
  dataDir: string | null;
  identity: NodeIdentity | null;
  cryptoPool: CryptoPool | null;
  zkPool: ZkPool | null;
  bootstrap: Address[];
}

/** Fills defaults and validates; throws TypeError/RangeError naming the option. */
export function resolveOptions(o: DhtNodeOptions): ResolvedOptions {
  const ephemeral = o.ephemeral ?? false;
  if (!ephemeral && (typeof o.dataDir !== 'string' || o.dataDir === '')) {
    throw new TypeError('options.dataDir must be a folder path (or set options.ephemeral)');
  }
  const r: ResolvedOptions = {
    host: o.host ?? '0.0.0.0',
    port: o.port ?? DHT_PORT,
    dataDir: o.dataDir ?? null,
    bootstrap: (o.bootstrap ?? []).map(toAddress),
    ephemeral,
    identity: o.identity ?? null,
    cryptoPool: o.cryptoPool ?? null,
    crypto: o.crypto ?? {},
    zkPool: o.zkPool ?? null,
    zk: o.zk ?? {},
    contracts: contractsOption(o.contracts, ephemeral),
    bandwidthClass: o.bandwidthClass ?? 1,
    k: o.k ?? K_BUCKET_SIZE,
    alpha: o.alpha ?? LOOKUP_ALPHA,
    replicationFactor: o.replicationFactor ?? DHT_REPLICATION_FACTOR,
    pingTimeout: o.pingTimeout ?? PING_TIMEOUT,
    queryTimeout: o.queryTimeout ?? QUERY_TIMEOUT,
    retries: o.retries ?? REQUEST_RETRIES,
    lookupTimeout: o.lookupTimeout ?? LOOKUP_TIMEOUT,
    storageCap: o.storageCap ?? DEFAULT_STORAGE_CAP,
    defaultTtl: o.defaultTtl ?? DEFAULT_TTL,
    refreshInterval: o.refreshInterval ?? BUCKET_REFRESH_INTERVAL,
    maintenanceInterval: o.maintenanceInterval ?? minute,
    repairInterval: o.repairInterval ?? 10 * minute,
    republishInterval: o.republishInterval ?? 60 * minute,
    repairBatch: o.repairBatch ?? 256,
    perSourceBytes: o.perSourceBytes ?? Math.max(1, Math.floor((o.storageCap ?? DEFAULT_STORAGE_CAP) / 8)),
    storageMapSize: o.storageMapSize ?? 2 * (o.storageCap ?? DEFAULT_STORAGE_CAP) + 64 * MiB,
    // Validated now, so a bad limit fails at construction rather than in start().
    rateLimits: o.rateLimits === false ? false : resolveRateLimits(o.rateLimits ?? {}),
    treatLoopbackAsPublic: o.treatLoopbackAsPublic ?? false,
    sessions: o.sessions ?? {},
    onPenalty: o.onPenalty ?? (() => {}),
    clock: o.clock ?? systemClock,
    random: o.random ?? systemRandom,
    logger: o.logger ?? silentLogger,
  };
  integer(r.port, 'port', 0, 0xffff);
  integer(r.k, 'k', 1, 1024);
  integer(r.alpha, 'alpha', 1, 64);
  integer(r.replicationFactor, 'replicationFactor', MIN_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR);
  integer(r.retries, 'retries', 0, 10);
  integer(r.bandwidthClass, 'bandwidthClass', 0, 255);
  for (const name of ['pingTimeout', 'queryTimeout', 'lookupTimeout', 'storageCap', 'refreshInterval', 'maintenanceInterval', 'repairInterval', 'republishInterval', 'repairBatch', 'perSourceBytes', 'storageMapSize'] as const) {
    if (!(r[name] > 0 && Number.isFinite(r[name]))) throw new RangeError(`options.${name} must be a positive number`);
  }
  if (!(r.defaultTtl >= second && r.defaultTtl <= MAX_TTL)) throw new RangeError('options.defaultTtl must be between 1 s and 48 h');
  return r;
}

/** The engine options of `contracts` (default on), null when off; checks each field now, not at first use. */
function contractsOption(v: DhtNodeOptions['contracts'], ephemeral: boolean): ContractsInit | null {
  if (v === undefined || v === true) return ephemeral ? null : {};
  if (v === false) return null;
  if (typeof v !== 'object' || v === null) throw new TypeError('options.contracts must be a boolean or the engine options');
  for (const name of ['threads', 'maxQueue', 'batchSize', 'callTimeout'] as const) {
    const n = v[name];
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new RangeError(`options.contracts.${name} must be a positive integer`);
  }
  if (v.niceIncrement !== undefined) integer(v.niceIncrement, 'contracts.niceIncrement', 0, 19);
  for (const name of ['serve', 'audit'] as const) {
    if (v[name] !== undefined && typeof v[name] !== 'boolean') throw new TypeError(`options.contracts.${name} must be a boolean`);
  }
  return ephemeral ? null : { ...v };
}

function integer(v: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`options.${name} must be an integer in ${min}..${max}`);
}

function toAddress(a: Address | string): Address {
  if (typeof a !== 'string') return a;
  const parsed = parseAddress(a);
  if (parsed === null) throw new TypeError(`options.bootstrap entry '${a}' is not HOST:PORT with an IP literal host`);
  return parsed;
}
