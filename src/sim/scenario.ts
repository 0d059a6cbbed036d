/**
 * What the simulator's scenarios share (docs/simulation.md): figures, tables and series, the
 * population, protocol joins and lookup sampling against global knowledge.
 */
import { idToHex, type Id } from '../id/index.js';
import { BUCKET_REFRESH_INTERVAL, minute } from '../util/index.js';
import type { LatencySpec } from './network.js';
import type { SimNode } from './node.js';
import type { SimWorld } from './world.js';

/** One measured figure (one JSON object per figure with --json). */
export interface Figure {
  readonly scenario: string;
  readonly figure: string;
  readonly value: number;
  readonly unit?: string;
  readonly nodes: number;
  readonly seed: number;
  readonly [label: string]: string | number | undefined;
}

/** A table for the human report. */
export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** A named series of (x, y) points, for plots. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly figures: Figure[];
  readonly tables: Table[];
  readonly series: Series[];
}

/** Told of progress on long runs: what is being done, how much of it. */
export type Progress = (label: string, done: number, total: number) => void;

export interface CommonOptions {
  nodes: number;
  seed: number;
  latency?: LatencySpec;
  loss?: number;
  /** Table-wide share of inbound-only entries (RoutingTable maxInboundShare); DhtNode's default when absent. */
  inboundShare?: number;
  /** Lookups started together. Default 50. */
  concurrency?: number;
  progress?: Progress;
}

/** How the nodes of a static run join: through the protocol, or tables filled from global knowledge. */
export type JoinMode = 'protocol' | 'oracle';

export interface LookupSample {
  recall: number;
  /** The honest node closest to the target was found (T19 success). */
  success: boolean;
  hops: number;
  messages: number;
  latencyMs: number;
}

/** Virtual time a batch of lookups may take at most. */
export const LOOKUP_LIMIT = 10 * minute;

export function tableInit(o: CommonOptions): { maxInboundShare?: number } {
  return o.inboundShare === undefined ? {} : { maxInboundShare: o.inboundShare };
}

/** Heap and external bytes in use, after a collection when --expose-gc allows one. */
export function memoryBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** Creates `n` nodes (`adversaries` of them adversarial, spread at random). */
export function populate(world: SimWorld, n: number, adversaries = 0): void {
  const bad = new Set<number>();
  while (bad.size < adversaries) bad.add(world.random.int(n));
  for (let i = 0; i < n; i++) world.addNode({ adversary: bad.has(i) });
}

/**
 * Joins every node through the protocol (DhtNode.bootstrap: PING a live node, look up our own
 * id), `concurrency` at a time, each through a random node that has already joined; then lets
 * the maintenance tick refresh the buckets still empty.
 */
export async function protocolJoin(world: SimWorld, concurrency: number, progress?: Progress): Promise<void> {
  const nodes = world.nodes;
  const joined: SimNode[] = nodes.slice(0, 1);
  for (let i = 1; i < nodes.length; i += concurrency) {
    const batch = nodes.slice(i, i + concurrency);
    const joins = batch.map((n) => n.join(joined[world.random.int(joined.length)]!.contact));
    await world.clock.waitFor(Promise.all(joins), LOOKUP_LIMIT);
    joined.push(...batch);
    progress?.('join', joined.length, nodes.length);
  }
  // Then one refresh cycle (BUCKET_REFRESH_INTERVAL) and a little: every node refreshes each
  // bucket its own traffic left idle (DhtNode's #maintain), as a network does in its first hour.
  // Joins alone leave the newest nodes known only in their neighbours' inbound slots.
  await world.clock.runUntil(world.clock.now() + BUCKET_REFRESH_INTERVAL + 2 * minute);
}

/** `count` lookups of random ids from random honest nodes over `paths` disjoint paths. */
export async function sampleLookups(world: SimWorld, count: number, paths: number, concurrency: number, progress?: Progress, label = 'lookups'): Promise<LookupSample[]> {
  const samples: LookupSample[] = [];
  const k = world.k;
  for (let done = 0; done < count;) {
    const batch = Math.min(concurrency, count - done);
    const runs: Promise<void>[] = [];
    for (let i = 0; i < batch; i++) {
      const from = world.pick(true);
      const target = world.random.bytes(32) as Id;
      const truth = world.trueClosest(target, k).filter((n) => n !== from);
      const best = world.trueClosest(target, 2, true).find((n) => n !== from);
      runs.push(from.lookup(target, paths).then((r) => {
        const found = new Set(r.closest.map((c) => idToHex(c.id)));
        const hits = truth.filter((n) => found.has(idToHex(n.id))).length;
        samples.push({
          recall: truth.length === 0 ? 1 : hits / truth.length,
          success: best === undefined || found.has(idToHex(best.id)),
          hops: Math.max(...r.paths.map((p) => p.hops)),
          messages: r.queried,
          latencyMs: r.durationMs,
        });
      }));
    }
    await world.clock.waitFor(Promise.all(runs), LOOKUP_LIMIT);
    done += batch;
    progress?.(label, done, count);
  }
  return samples;
}

