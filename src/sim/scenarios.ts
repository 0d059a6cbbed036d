/**
 * The simulator's scenarios (docs/simulation.md): static lookups, churn with replication,
 * adversarial disjoint lookups, and scale. Each is deterministic from its seed: the same
 * options give the same figures (wall time and memory aside).
 */
import { idToHex, type Id, type Key } from '../id/index.js';
import { blake3 } from '../crypto/blake3.js';
import { BUCKET_REFRESH_INTERVAL, hour, MAX_TTL, minute } from '../util/index.js';
import type { LatencySpec } from './network.js';
import type { SimNode } from './node.js';
import { histogram, mean, quantile, round } from './stats.js';
import { liveTimers, SimWorld } from './world.js';

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

interface LookupSample {
  recall: number;
  /** The honest node closest to the target was found (T19 success). */
  success: boolean;
  hops: number;
  messages: number;
  latencyMs: number;
}

const LOOKUP_LIMIT = 10 * minute;

function tableInit(o: CommonOptions): { maxInboundShare?: number } {
  return o.inboundShare === undefined ? {} : { maxInboundShare: o.inboundShare };
}

function memoryBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** Creates `n` nodes (`adversaries` of them adversarial, spread at random). */
function populate(world: SimWorld, n: number, adversaries = 0): void {
  const bad = new Set<number>();
  while (bad.size < adversaries) bad.add(world.random.int(n));
  for (let i = 0; i < n; i++) world.addNode({ adversary: bad.has(i) });
}

/**
 * Joins every node through the protocol (DhtNode.bootstrap: PING a live node, look up our own
 * id), `concurrency` at a time, each through a random node that has already joined; then lets
 * the maintenance tick refresh the buckets still empty.
 */
async function protocolJoin(world: SimWorld, concurrency: number, progress?: Progress): Promise<void> {
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
async function sampleLookups(world: SimWorld, count: number, paths: number, concurrency: number, progress?: Progress, label = 'lookups'): Promise<LookupSample[]> {
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

export interface StaticOptions extends CommonOptions {
  lookups?: number;
  join?: JoinMode;
  paths?: number;
}

/** T26 (sim): N nodes join, then random lookups against global knowledge. */
export async function runStatic(o: StaticOptions): Promise<ScenarioResult> {
  const lookups = o.lookups ?? 1000;
  const join = o.join ?? (o.nodes <= 5000 ? 'protocol' : 'oracle');
  const concurrency = o.concurrency ?? 50;
  const started = performance.now();
  const before = memoryBytes();
  const world = new SimWorld({ seed: o.seed, latency: o.latency, loss: o.loss, table: tableInit(o), timers: join === 'protocol' ? liveTimers(null) : undefined });
  try {
    populate(world, o.nodes);
    if (join === 'oracle') world.oracleJoin((done) => o.progress?.('tables', done, o.nodes));
    else await protocolJoin(world, concurrency, o.progress);
    const buildS = (performance.now() - started) / 1000;
    const bytesPerNode = (memoryBytes() - before) / o.nodes;
    const sent = world.network.counters.sent;
    const t0 = performance.now();
    const samples = await sampleLookups(world, lookups, o.paths ?? 1, concurrency, o.progress);
    const lookupWallMs = (performance.now() - t0) / lookups;
    const hops = samples.map((s) => s.hops);
    const tableSizes = world.nodes.map((n) => n.table.size);
    const fig = (figure: string, value: number, unit?: string): Figure =>
      ({ scenario: 'static', figure, value: round(value, 4), unit, nodes: o.nodes, seed: o.seed, join });
    const figures = [
      fig('lookup_success', mean(samples.map((s) => (s.success ? 1 : 0)))),
      fig('recall_at_k', mean(samples.map((s) => s.recall))),
      fig('hops_median', quantile(hops, 0.5)),
      fig('hops_p99', quantile(hops, 0.99)),
      fig('hops_mean', mean(hops)),
      fig('messages_per_lookup', mean(samples.map((s) => s.messages))),
      fig('latency_p50_ms', quantile(samples.map((s) => s.latencyMs), 0.5), 'ms'),
      fig('latency_p99_ms', quantile(samples.map((s) => s.latencyMs), 0.99), 'ms'),
      fig('table_size_mean', mean(tableSizes)),
      fig('join_messages_per_node', sent / o.nodes),
      fig('build_wall_s', buildS, 's'),
      fig('wall_ms_per_lookup', lookupWallMs, 'ms'),
      fig('wall_s', (performance.now() - started) / 1000, 's'),
      fig('rss_mb', process.memoryUsage().rss / 2 ** 20, 'MiB'),
      fig('bytes_per_node', bytesPerNode, 'B'),
    ];
    const total = hops.length;
    return {
      scenario: 'static', figures,
      tables: [{ title: `Hops per lookup (${total} lookups, N = ${o.nodes})`, header: ['hops', 'lookups', 'share'], rows: histogram(hops).map(([h, n]) => [h, n, round(n / total, 3)]) }],
      series: [],
    };
  } finally {
    world.stop();
  }
}

export interface AdversarialOptions extends CommonOptions {
  fractions?: readonly number[];
  paths?: readonly number[];
  lookups?: number;
}

/** T19 (sim): adversaries that answer only with each other; success of d disjoint paths. */
export async function runAdversarial(o: AdversarialOptions): Promise<ScenarioResult> {
  const fractions = o.fractions ?? [0, 0.1, 0.2, 0.3];
  const pathCounts = o.paths ?? [1, 2, 4, 8];
  const lookups = o.lookups ?? 1000;
  const figures: Figure[] = [];
  const success = new Map<string, number>();
  const messages = new Map<string, number>();
  for (const f of fractions) {
    const world = new SimWorld({ seed: o.seed + Math.round(f * 1000), latency: o.latency, loss: o.loss, table: tableInit(o) });
    try {
      populate(world, o.nodes, Math.round(f * o.nodes));
      world.oracleJoin();
      for (const d of pathCounts) {
        const samples = await sampleLookups(world, lookups, d, o.concurrency ?? 50, o.progress, `f=${f} d=${d}`);
        const s = mean(samples.map((x) => (x.success ? 1 : 0)));
        const m = mean(samples.map((x) => x.messages));
        success.set(`${f}/${d}`, s);
        messages.set(`${f}/${d}`, m);
        const base = { scenario: 'adversarial', nodes: o.nodes, seed: o.seed, f, d };
        figures.push({ ...base, figure: 'lookup_success', value: round(s, 4) }, { ...base, figure: 'messages_per_lookup', value: round(m, 2) });
      }
    } finally {
      world.stop();
    }
  }
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  return {
    scenario: 'adversarial', figures,
    tables: [
      { title: `Lookup success (the honest node closest to the target found), N = ${o.nodes}`, header: ['d \\ f', ...fractions.map(pct)], rows: pathCounts.map((d) => [d, ...fractions.map((f) => round(success.get(`${f}/${d}`)!, 3))]) },
      { title: 'Messages per lookup (all paths)', header: ['d \\ f', ...fractions.map(pct)], rows: pathCounts.map((d) => [d, ...fractions.map((f) => round(messages.get(`${f}/${d}`)!, 1))]) },
    ],
    series: [],
  };
}

export interface ChurnOptions extends CommonOptions {
  /** Simulated minutes of churn. Default 120. */
  minutes?: number;
  /** Share of nodes replaced per simulated minute. Default 0.1. */
  rate?: number;
  /** Keys stored before the churn. Default 1,000. */
  keys?: number;
  /** Replicas per key. Default 5 (see docs/simulation.md). */
  replicas?: number;
  /** Replicator round interval, ms. Default 1 min. */
  repairInterval?: number;
  /** Republish interval of the publishers, ms. Default 1 h. */
  republishInterval?: number;
  /** Minutes between measurements. Default 10. */
  sampleEvery?: number;
}

/** T27 (sim): a share of the nodes replaced every minute while replication keeps the keys alive. */
export async function runChurn(o: ChurnOptions): Promise<ScenarioResult> {
  const minutes = o.minutes ?? 120;
  const rate = o.rate ?? 0.1;
  const keyCount = o.keys ?? 1000;
  const r = o.replicas ?? 5;
  const sampleEvery = o.sampleEvery ?? 10;
  const concurrency = o.concurrency ?? 50;
  const started = performance.now();
  const world = new SimWorld({
    seed: o.seed, latency: o.latency, loss: o.loss, table: tableInit(o),
    timers: liveTimers({ interval: o.repairInterval ?? minute, republishInterval: o.republishInterval ?? hour, batch: 256 }),
  });
  const k = world.k;
  const samples: { minute: number; success: number; liveK: number; liveR: number; discovery: number; nodes: number }[] = [];
  const all = { lookups: 0, found: 0, discovered: 0, existing: 0 };
  try {
    populate(world, o.nodes);
    world.oracleJoin();
    const start = world.clock.now();
    // Publish the keys from random nodes.
    const keys: Key[] = [];
    for (let i = 0; i < keyCount; i += concurrency) {
      const puts: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(keyCount, i + concurrency); j++) {
        const value = world.random.bytes(48);
        keys.push(blake3(value) as Key);
        puts.push(world.pick().put(value, r, MAX_TTL));
      }
      await world.clock.waitFor(Promise.all(puts), LOOKUP_LIMIT);
      o.progress?.('publish', Math.min(keyCount, i + concurrency), keyCount);
    }
    const measure = async (m: number): Promise<void> => {
      let found = 0;
      let discovered = 0;
      let existing = 0;
      const liveK: number[] = [];
      const liveR: number[] = [];
      for (let i = 0; i < keys.length; i += concurrency) {
        const runs = keys.slice(i, i + concurrency).map(async (key) => {
          const closest = world.trueClosest(key, k);
          const holders = closest.filter((n) => n.records.has(key));
          liveK.push(holders.length);
          liveR.push(closest.slice(0, r).filter((n) => n.records.has(key)).length);
          const from = world.pick();
          const { result, holders: seen } = await from.findValue(key);
          if (result.value !== null || from.records.has(key)) found++;
          const held = new Set(holders.map((n) => idToHex(n.id)));
          discovered += seen.filter((c) => held.has(idToHex(c.id))).length;
          existing += holders.filter((n) => n !== from).length;
        });
        await world.clock.waitFor(Promise.all(runs), LOOKUP_LIMIT);
      }
      all.lookups += keys.length;
      all.found += found;
      all.discovered += discovered;
      all.existing += existing;
      samples.push({
        minute: m, success: found / keys.length, liveK: quantile(liveK, 0.5), liveR: quantile(liveR, 0.5),
        discovery: existing === 0 ? 1 : discovered / existing, nodes: world.size,
      });
    };
    await measure(0);
    const perMinute = Math.round(rate * o.nodes);
    for (let m = 1; m <= minutes; m++) {
      const minuteStart = start + (m - 1) * minute;
      for (let j = 0; j < perMinute; j++) {
        // Replacements at random instants of the minute: a node vanishes, a fresh one joins.
        world.clock.setTimeout(() => {
          world.removeNode(world.pick());
          const bootstrap = world.pick();
          void world.addNode().join(bootstrap.contact);
        }, minuteStart + world.random.int(minute) - world.clock.now());
      }
      await world.clock.runUntil(start + m * minute);
      if (m % sampleEvery === 0 || m === minutes) await measure(m);
      o.progress?.('churn minutes', m, minutes);
    }
    const fig = (figure: string, value: number, unit?: string): Figure =>
      ({ scenario: 'churn', figure, value: round(value, 4), unit, nodes: o.nodes, seed: o.seed, minutes, rate, replicas: r });
    const figures = [
      fig('lookup_success', all.found / all.lookups),
      fig('lookup_success_min', Math.min(...samples.map((s) => s.success))),
      fig('median_live_replicas_k', quantile(samples.map((s) => s.liveK), 0.5)),
      fig('median_live_replicas_r', quantile(samples.map((s) => s.liveR), 0.5)),
      fig('min_median_live_replicas_r', Math.min(...samples.map((s) => s.liveR))),
      fig('discovery_ratio', all.existing === 0 ? 1 : all.discovered / all.existing),
      fig('nodes_replaced', perMinute * minutes),
      fig('messages_per_node_minute', world.network.counters.sent / o.nodes / Math.max(1, minutes)),
      fig('wall_s', (performance.now() - started) / 1000, 's'),
      fig('rss_mb', process.memoryUsage().rss / 2 ** 20, 'MiB'),
    ];
    return {
      scenario: 'churn', figures,
      tables: [{
        title: `Churn: ${Math.round(rate * 100)} % of ${o.nodes} nodes replaced per minute, ${keyCount} keys at r = ${r}`,
        header: ['minute', 'success', `median live among k`, `median live among r`, 'discovery', 'nodes'],
        rows: samples.map((s) => [s.minute, round(s.success, 3), s.liveK, s.liveR, round(s.discovery, 3), s.nodes]),
      }],
      series: [
        { name: 'lookup success', points: samples.map((s) => [s.minute, s.success]) },
        { name: 'discovery ratio', points: samples.map((s) => [s.minute, s.discovery]) },
        { name: `live among r (÷ ${r})`, points: samples.map((s) => [s.minute, s.liveR / r]) },
      ],
    };
  } finally {
    world.stop();
  }
}
