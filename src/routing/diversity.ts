/**
 * Admission limits of the routing table against Sybil and eclipse attacks (discv5 rationale;
 * go-ethereum p2p/discover `bucketIPLimit`/`tableIPLimit`; sigp/discv5 kbucket IP filter and
 * `incoming_bucket_limit`). Pure counters kept in step with the table's entries: entries per
 * subnet (/24 IPv4, /48 IPv6) per bucket and per table, inbound-only entries per bucket and in the
 * whole table, and outbound-verified entries (which set the table-wide inbound allowance).
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
/**
 * Inbound-only entries in the whole table, per outbound-verified entry. The per-bucket cap alone
 * lets an attacker from a few /24s put 5 inbound entries into every non-full bucket, about half of
 * a 100-entry table; discv5 rationale: "avoid taking on new members on incoming contact unless the
 * table is well-stocked from outbound queries". At 0.2, inbound-only entries stay ≤ 1/6 of a
 * table holding at least 5 × `minInboundAllowance` outbound-verified entries (our choice).
 */
export const MAX_INBOUND_SHARE = 0.2;

/** Default `minInboundAllowance` of a table with `k` contacts per bucket: half a bucket, rounded up. */
export function defaultMinInboundAllowance(k: number): number {
  return Math.ceil(k / 2);
}

/** The resolved limits of one table. */
export interface DiversityLimits {
  readonly maxPerSubnetPerBucket: number;
  readonly maxPerSubnetPerTable: number;
  readonly maxInboundPerBucket: number;
  readonly maxInboundShare: number;
  readonly minInboundAllowance: number;
  readonly treatLoopbackAsPublic: boolean;
}

function assertLimit(value: number, name: string, min: number): void {
  if (value === Number.POSITIVE_INFINITY) return;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer or Infinity`);
  }
}

/**
 * The limits of `init` with their defaults, for a table of `k` contacts per bucket; throws
 * RangeError / TypeError naming a bad option.
 */
export function resolveDiversityLimits(init: RoutingTableInit, k: number): DiversityLimits {
  const limits: DiversityLimits = {
    maxPerSubnetPerBucket: init.maxPerSubnetPerBucket ?? MAX_PER_SUBNET_PER_BUCKET,
    maxPerSubnetPerTable: init.maxPerSubnetPerTable ?? MAX_PER_SUBNET_PER_TABLE,
    maxInboundPerBucket: init.maxInboundPerBucket ?? MAX_INBOUND_PER_BUCKET,
    maxInboundShare: init.maxInboundShare ?? MAX_INBOUND_SHARE,
    minInboundAllowance: init.minInboundAllowance ?? defaultMinInboundAllowance(k),
    treatLoopbackAsPublic: init.treatLoopbackAsPublic ?? false,
  };
  assertLimit(limits.maxPerSubnetPerBucket, 'options.maxPerSubnetPerBucket', 1);
  assertLimit(limits.maxPerSubnetPerTable, 'options.maxPerSubnetPerTable', 1);
  assertLimit(limits.maxInboundPerBucket, 'options.maxInboundPerBucket', 0);
  assertLimit(limits.minInboundAllowance, 'options.minInboundAllowance', 0);
  // typeof first: `>= 0` would let a numeric string or a boolean through.
  if (typeof limits.maxInboundShare !== 'number' || !(limits.maxInboundShare >= 0)) {
    throw new RangeError('options.maxInboundShare must be a non-negative number or Infinity');
  }
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
  #inboundOnly = 0;
  #outbound = 0;

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
   * checked against the inbound caps too (per bucket and table-wide). `replacing` is the host of
   * an entry of the same bucket that the newcomer takes the place of (a known contact moving
   * address): its count is freed.
   */
  check(index: number, host: string, inbound: boolean, replacing?: string): RejectReason | null {
    const subnet = this.subnetOf(host);
    if (subnet !== null) {
      const freed = replacing !== undefined && this.subnetOf(replacing) === subnet ? 1 : 0;
      const inBucket = (this.#perBucket.get(index)?.get(subnet) ?? 0) - freed;
      if (inBucket >= this.limits.maxPerSubnetPerBucket) return 'subnet_bucket';
      if ((this.#perTable.get(subnet) ?? 0) - freed >= this.limits.maxPerSubnetPerTable) return 'subnet_table';
    }
    if (inbound && (this.inboundIn(index) >= this.limits.maxInboundPerBucket || this.#inboundOnly >= this.inboundAllowance())) {
      return 'inbound_limit';
    }
    return null;
  }

  /**
   * The table-wide bound on inbound-only entries: `max(minInboundAllowance, floor(maxInboundShare ×
   * outbound))`. Checked only when an inbound-only entry would be added: entries already in the
   * table stay when the bound later falls (an outbound entry leaves); they age out as usual.
   */
  inboundAllowance(): number {
    const { maxInboundShare: share, minInboundAllowance: min } = this.limits;
    // Infinity × 0 is NaN: an unbounded share is unbounded even before any outbound entry.
    if (share === Number.POSITIVE_INFINITY) return share;
    return Math.max(min, Math.floor(share * this.#outbound));
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
    return {
      perTable: new Map(this.#perTable), perBucket, inbound: new Map(this.#inbound), inboundOnly: this.#inboundOnly, outbound: this.#outbound,
    };
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
      inboundOnly: this.#inboundOnly,
      outbound: this.#outbound,
      inboundAllowance: this.inboundAllowance(),
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
      this.#inboundOnly += by;
    } else {
      this.#outbound += by;
    }
  }
}
