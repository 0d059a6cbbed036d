/**
 * A simulated network of SimNodes on one virtual clock, with global knowledge for measuring:
 * the true k closest live nodes to any id (an index of ids in sorted order, so a query costs a
 * binary search and a sort of a few dozen ids even at a million nodes), and the "oracle" join
 * that fills every routing table as a long-converged network would have it.
 */
import { type Contact, type Id, ID_BITS, type NodeId, compareDistance } from '../id/index.js';
import { BUCKET_REFRESH_INTERVAL, minute, SeededRandom } from '../util/index.js';
import { EventClock } from './clock.js';
import { type BandwidthClass, type LatencySpec, SimNetwork, simHost } from './network.js';
import { SimNode, type SimTimers } from './node.js';
import type { RoutingTableInit } from '../routing/index.js';

export interface WorldInit {
  seed: number;
  k?: number;
  alpha?: number;
  latency?: LatencySpec;
  loss?: number;
  bandwidth?: readonly BandwidthClass[];
  /** Periodic work of every honest node (default: no timers — a static network). */
  timers?: SimTimers;
  pingTimeout?: number;
  queryTimeout?: number;
  /** Routing-table admission options of every node (e.g. maxInboundShare). */
  table?: RoutingTableInit;
}

/** Timers of a live network: DhtNode's maintenance tick and refresh, and replication as given. */
export function liveTimers(replication: SimTimers['replication'], refreshInterval = BUCKET_REFRESH_INTERVAL): SimTimers {
  return { maintenanceInterval: minute, refreshInterval, replication };
}

/** Compares two ids as unsigned big-endian numbers. */
function compareIds(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The id sharing the first `bits` bits of `id` with the rest set to `fill` (0 or 1). */
function bound(id: Id, bits: number, fill: 0 | 1): Uint8Array {
  const out = new Uint8Array(id);
  for (let i = bits; i < out.length * 8; i++) {
    const mask = 0x80 >> (i & 7);
    if (fill === 1) out[i >> 3]! |= mask;
    else out[i >> 3]! &= ~mask;
  }
  return out;
}

/** Nodes sorted by id, for range queries by prefix. */
export class IdIndex {
  readonly nodes: SimNode[];

  constructor(nodes: Iterable<SimNode>) {
    this.nodes = [...nodes].sort((a, b) => compareIds(a.id, b.id));
  }

  /** [lo, hi): the nodes whose ids share the first `bits` bits of `id`. */
  range(id: Id, bits: number): [number, number] {
    return [this.#lowerBound(bound(id, bits, 0), false), this.#lowerBound(bound(id, bits, 1), true)];
  }

  /** The n nodes closest to `target` by XOR, closest first. */
  closest(target: Id, n: number): SimNode[] {
    if (this.nodes.length === 0 || n <= 0) return [];
    // The deepest prefix of the target shared by at least n ids: the n closest are all inside.
    let lo = 0;
    let hi = this.nodes.length;
    for (let bits = 1; bits <= 256; bits++) {
      const [l, h] = this.range(target, bits);
      if (h - l < n) break;
      lo = l;
      hi = h;
    }
    return this.nodes.slice(lo, hi).sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, n);
  }

  /** First index whose id is >= `key` (or > `key` when `after`). */
  #lowerBound(key: Uint8Array, after: boolean): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareIds(this.nodes[mid]!.id, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The population of a simulation. */
export class SimWorld {
  readonly clock = new EventClock();
  readonly network: SimNetwork;
  readonly random: SeededRandom;
  readonly k: number;
  readonly #init: WorldInit;
  readonly #live = new Set<SimNode>();
  #hosts = 0;
  #index: IdIndex | null = null;
  #adversaries: IdIndex | null = null;

  constructor(init: WorldInit) {
    this.#init = init;
    this.random = new SeededRandom(init.seed);
    this.k = init.k ?? 20;
    this.network = new SimNetwork({
      clock: this.clock, random: new SeededRandom(init.seed ^ 0x5eed), latency: init.latency, loss: init.loss, bandwidth: init.bandwidth,
    });
  }

  /** Live nodes, in the order they joined. */
  get nodes(): SimNode[] {
    return [...this.#live];
  }

  get size(): number {
    return this.#live.size;
  }

  /** A new node with a fresh random id (not yet joined). */
  addNode(options: { adversary?: boolean } = {}): SimNode {
    const id = this.random.bytes(ID_BITS / 8) as NodeId;
    const node = new SimNode({
      network: this.network, host: simHost(this.#hosts++), id, seed: this.random.next(), k: this.k, alpha: this.#init.alpha,
      adversary: options.adversary, coalition: (target, n) => this.adversariesClosest(target, n),
      timers: this.#init.timers, pingTimeout: this.#init.pingTimeout, queryTimeout: this.#init.queryTimeout, table: this.#init.table,
    });
    this.#live.add(node);
    this.#index = null;
    if (node.adversary) this.#adversaries = null;
    return node;
  }

  /** Stops a node (it vanishes: no goodbye, its endpoint stops answering). */
  removeNode(node: SimNode): void {
    if (!this.#live.delete(node)) return;
    node.stop();
    this.#index = null;
    if (node.adversary) this.#adversaries = null;
  }

  /** A uniformly random live node (honest ones only with `honest`). */
  pick(honest = false): SimNode {
    const pool = honest ? this.nodes.filter((n) => !n.adversary) : this.nodes;
    if (pool.length === 0) throw new RangeError('no live node to pick');
    return pool[this.random.int(pool.length)]!;
  }

  /** Global knowledge: the n live nodes closest to `target` (honest ones only with `honest`). */
  trueClosest(target: Id, n: number, honest = false): SimNode[] {
    if (!honest) return this.index().closest(target, n);
    // Widen until enough honest ones are among them (adversaries are a minority).
    for (let m = n; ; m *= 2) {
      const near = this.index().closest(target, m);
      const good = near.filter((x) => !x.adversary);
      if (good.length >= n || near.length < m) return good.slice(0, n);
    }
  }

  /** The adversaries closest to `target` (what the coalition answers). */
  adversariesClosest(target: Id, n: number): Contact[] {
    this.#adversaries ??= new IdIndex(this.nodes.filter((x) => x.adversary));
    return this.#adversaries.closest(target, n).map((x) => x.contact);
  }

  index(): IdIndex {
    this.#index ??= new IdIndex(this.#live);
    return this.#index;
  }

  /**
   * Fills every routing table from global knowledge: bucket i of a node gets up to k random
   * nodes among those sharing exactly i leading bits with it, through RoutingTable.add (the
   * table's own admission rules apply). `onProgress` is told the nodes done so far.
   */
  oracleJoin(onProgress?: (done: number) => void): void {
    const index = this.index();
    const nodes = index.nodes;
    const now = this.clock.now();
    nodes.forEach((node, done) => {
      for (let i = 0; i < 256; i++) {
        const [lo, hi] = index.range(bucketPrefix(node.id, i), i + 1);
        for (const j of this.#sample(lo, hi, this.k)) node.table.add(nodes[j]!.contact, now);
        const [slo, shi] = index.range(node.id, i + 1);
        if (shi - slo <= 1) break; // nobody else shares i + 1 bits: deeper buckets are empty
      }
      if (onProgress !== undefined && (done & 1023) === 0) onProgress(done);
    });
    onProgress?.(nodes.length);
  }

  /** Stops every node. */
  stop(): void {
    for (const node of [...this.#live]) this.removeNode(node);
  }

  /** Up to n distinct integers of [lo, hi), chosen at random. */
  #sample(lo: number, hi: number, n: number): number[] {
    const count = hi - lo;
    if (count <= n) return Array.from({ length: count }, (_, i) => lo + i);
    const picked = new Set<number>();
    while (picked.size < n) picked.add(lo + this.random.int(count));
    return [...picked];
  }
}

/** `id` with bit `i` flipped: the prefix of the ids in bucket i of `id`'s table. */
function bucketPrefix(id: Id, i: number): Id {
  const out = new Uint8Array(id);
  out[i >> 3]! ^= 0x80 >> (i & 7);
  return out as Id;
}
