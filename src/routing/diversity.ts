/**
 * Admission limits of the routing table against Sybil and eclipse attacks (discv5 rationale;
 * go-ethereum p2p/discover `bucketIPLimit`/`tableIPLimit`; sigp/discv5 kbucket IP filter and
 * `incoming_bucket_limit`). Pure counters kept in step with the table's entries: entries per
 * subnet (/24 IPv4, /48 IPv6) per bucket and per table, and inbound-only entries per bucket.
 * Replacement-cache entries are not counted: they are checked again when promoted.
 */
import { K_BUCKET_SIZE, isLocalAddress, isLoopback, subnetKey } from '../util/index.js';
import type { DiversityCounts, DiversityStats, RejectReason, RoutingTableInit } from './types.js';

/**
 * Entries from one /24 (or /48) in one bucket. discv5 rationale, "Sybil and Eclipse Attacks":
 * "limiting Kademlia table buckets to two nodes from every /24 IP subnetwork"; go-ethereum
 * `bucketIPLimit = 2`, sigp/discv5 `MAX_NODES_PER_SUBNET_BUCKET = 2`.
 */
export const MAX_PER_SUBNET_PER_BUCKET = 2;
/**
 * Entries from one /24 (or /48) in the whole table. discv5 rationale: "the whole table to 10
 * nodes per /24 IP subnetwork"; go-ethereum `tableIPLimit = 10`, sigp/discv5 `MAX_NODES_PER_SUBNET_TABLE = 10`.
 */
export const MAX_PER_SUBNET_PER_TABLE = 10;
/**
 * Inbound-only entries per bucket: a quarter of k (5 of 20). The mechanism is sigp/discv5's
 * `incoming_bucket_limit` (there disabled by default); the discv5 rationale advises against
 * taking on new members on incoming contact unless the table is well stocked from outbound
 * queries. A quarter keeps most of every bucket for peers we reached ourselves.
 */
export const MAX_INBOUND_PER_BUCKET = K_BUCKET_SIZE / 4;

/** The resolved limits of one table. */
export interface DiversityLimits {
  readonly maxPerSubnetPerBucket: number;
  readonly maxPerSubnetPerTable: number;
  readonly maxInboundPerBucket: number;
  readonly treatLoopbackAsPublic: boolean;
}

function assertLimit(value: number, name: string, min: number): void {
  if (value === Number.POSITIVE_INFINITY) return;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer or Infinity`);
  }
}

/** The limits of `init` with their defaults; throws RangeError / TypeError naming a bad option. */
export function resolveDiversityLimits(init: RoutingTableInit): DiversityLimits {
  const limits: DiversityLimits = {
    maxPerSubnetPerBucket: init.maxPerSubnetPerBucket ?? MAX_PER_SUBNET_PER_BUCKET,
    maxPerSubnetPerTable: init.maxPerSubnetPerTable ?? MAX_PER_SUBNET_PER_TABLE,
    maxInboundPerBucket: init.maxInboundPerBucket ?? MAX_INBOUND_PER_BUCKET,
    treatLoopbackAsPublic: init.treatLoopbackAsPublic ?? false,
  };
  assertLimit(limits.maxPerSubnetPerBucket, 'options.maxPerSubnetPerBucket', 1);
  assertLimit(limits.maxPerSubnetPerTable, 'options.maxPerSubnetPerTable', 1);
  assertLimit(limits.maxInboundPerBucket, 'options.maxInboundPerBucket', 0);
  if (typeof limits.treatLoopbackAsPublic !== 'boolean') {
    throw new TypeError('options.treatLoopbackAsPublic must be a boolean');
  }
  return Object.freeze(limits);
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

/** Subnet and inbound counts of one table's entries (not of its replacement caches). */
export class DiversityCounter {
  readonly limits: DiversityLimits;
  readonly #perBucket = new Map<number, Map<string, number>>();
  readonly #perTable = new Map<string, number>();
  readonly #inbound = new Map<number, number>();

  constructor(limits: DiversityLimits) {
    this.limits = limits;
  }

  /**
   * The subnet `host` counts under, or null when it is exempt: private, link-local and
   * loopback hosts (`isLocalAddress`; BEP 42 exempts the same IPv4 ranges) say nothing about who runs a
   * peer. With `treatLoopbackAsPublic`, loopback counts. A host that is not an IP literal (the
   * table does not resolve names) counts as a subnet of its own.
   */
  subnetOf(host: string): string | null {
    if (isLocalAddress(host) && !(this.limits.treatLoopbackAsPublic && isLoopback(host))) return null;
    return subnetKey(host) ?? host;
  }

  /**
   * Which limit admitting `host` to bucket `index` would break, or null. `inbound` entries are
   * checked against the inbound cap too. `replacing` is the host of an entry of the same bucket
   * that the newcomer takes the place of (a known contact moving address): its count is freed.
   */
  check(index: number, host: string, inbound: boolean, replacing?: string): RejectReason | null {
    const subnet = this.subnetOf(host);
    if (subnet !== null) {
      const freed = replacing !== undefined && this.subnetOf(replacing) === subnet ? 1 : 0;
      const inBucket = (this.#perBucket.get(index)?.get(subnet) ?? 0) - freed;
      if (inBucket >= this.limits.maxPerSubnetPerBucket) return 'subnet_bucket';
      if ((this.#perTable.get(subnet) ?? 0) - freed >= this.limits.maxPerSubnetPerTable) return 'subnet_table';
    }
    if (inbound && this.inboundIn(index) >= this.limits.maxInboundPerBucket) return 'inbound_limit';
    return null;
  }

  /** Counts an entry of bucket `index` at `host`. */
  add(index: number, host: string, inbound: boolean): void {
    this.#change(index, host, inbound, 1);
  }

  /** Releases what `add()` counted. */
  delete(index: number, host: string, inbound: boolean): void {
    this.#change(index, host, inbound, -1);
  }

  /** Inbound-only entries of bucket `index`. */
  inboundIn(index: number): number {
    return this.#inbound.get(index) ?? 0;
  }

  /** Copies of the tracked counts. */
  counts(): DiversityCounts {
    const perBucket = new Map<number, Map<string, number>>();
    for (const [index, m] of this.#perBucket) perBucket.set(index, new Map(m));
    return { perTable: new Map(this.#perTable), perBucket, inbound: new Map(this.#inbound) };
  }

  /** Highest counts now; `buckets` is how many bucket indices `inboundPerBucket` lists. */
  stats(buckets: number): DiversityStats {
    let perBucket = 0;
    for (const m of this.#perBucket.values()) for (const n of m.values()) perBucket = Math.max(perBucket, n);
    let perTable = 0;
    for (const n of this.#perTable.values()) perTable = Math.max(perTable, n);
    const inboundPerBucket = Array.from({ length: buckets }, (_, i) => this.inboundIn(i));
    return {
      maxPerSubnetPerBucket: perBucket,
      maxPerSubnetPerTable: perTable,
      inboundPerBucket,
      maxInboundPerBucket: Math.max(0, ...inboundPerBucket),
    };
  }

  #change(index: number, host: string, inbound: boolean, by: 1 | -1): void {
    const subnet = this.subnetOf(host);
    if (subnet !== null) {
      let m = this.#perBucket.get(index);
      if (m === undefined) {
        m = new Map();
        this.#perBucket.set(index, m);
      }
      bump(m, subnet, by);
      if (m.size === 0) this.#perBucket.delete(index);
      bump(this.#perTable, subnet, by);
    }
    if (inbound) {
      const n = this.inboundIn(index) + by;
      if (n === 0) this.#inbound.delete(index);
      else this.#inbound.set(index, n);
    }
  }
}
