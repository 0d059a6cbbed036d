/**
 * T27 churn, net short run (RELIABILITY.md §5): a loopback testnet whose nodes are replaced by
 * fresh identities step after step (stop old, add new through a live node), with the stored
 * keys kept alive by repair and republish rounds that the test drives between the steps
 * (`node.replicate()` on every live node; the repair timer is set to a day, republish is due
 * every period). After each step it counts the live replicas among the current k closest of
 * every key; at the end it reads every key back and measures how many holders a lookup finds.
 *
 * Replication factor: r = 3 (the design's default, DESIGN.md). The spec's "≥ 10 live replicas
 * among the k closest" presumes k = 20 replicas (RFM 17, Kad); at r = 3 the design promises r
 * live replicas, and that is the threshold (test/thresholds.ts, T27).
 *
 * Each step: stop the victims, add as many fresh nodes, refresh every live node's buckets (what
 * the nodes' own maintenance does between two repair timers), one repair round on every live node.
 * CI size: 30 nodes, 50 keys, 2 steps at least 10 s apart, each replacing 10 % (3 nodes). On the
 * shared 2-core machine a step takes 13-20 s (about 700 lookups of ~25 RPCs each, on one event
 * loop, plus the handshakes of the newcomers), so the churn lasts 30-40 s; a third step took
 * 28-67 s in our runs (the loop stalls for up to 1.5 s), which is why CI stops at two.
 * SLOW=1: 200 nodes for 3 minutes, 5 % every 30 s (10 % per minute, the spec's rate), 1,000 keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compareDistance, idToHex, type Key, randomIdInBucket } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { bytesEqual, hour, SeededRandom } from '../../src/util/index.js';
import { setKey } from '../../src/values/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { eachLimited } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const SLOW = process.env.SLOW === '1';
const R = 3;
const K = 20;

interface ChurnConfig {
  label: string;
  nodes: number;
  immutable: number;
  sets: number;
  steps: number;
  /** Nodes replaced per step. */
  replaced: number;
  /** Wall-clock time between step starts, ms (a step that takes longer starts the next at once). */
  period: number;
  seed: number;
}

const CI: ChurnConfig = { label: 'ci', nodes: 30, immutable: 40, sets: 10, steps: 2, replaced: 3, period: 10_000, seed: 2727 };
const FULL: ChurnConfig = { label: 'slow', nodes: 200, immutable: 900, sets: 100, steps: 6, replaced: 10, period: 30_000, seed: 2728 };

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): number => Math.round(ms / 1000);

interface Stored { kind: 'immutable' | 'set'; key: Key; value: Uint8Array }
interface StepFigures { step: number; min: number; median: number; tookS: number; staleAfter: number }

/**
 * Kademlia §2.3 bucket refresh, run now on every node: two lookups of random ids in each of its
 * non-empty buckets, all at once. Stopped peers met on the way time out twice and leave the
 * tables, as they would between two repair timers (10 min by default); without it, every lookup
 * waits a slow-peer interval per hop for the stopped peers that idle nodes still hand out.
 */
async function refreshTables(nodes: readonly DhtNode[], random: SeededRandom): Promise<void> {
  await eachLimited(nodes, 32, async (n) => {
    await Promise.all(n.routingTable.buckets().flatMap((b) => [0, 1].map(() => n.lookup(randomIdInBucket(n.id, b.index, (k) => random.bytes(k))))));
  });
}

/** A churning testnet: which nodes are stopped, and what the test stored. */
class Churn {
  readonly dead = new Set<DhtNode>();
  readonly stoppedIds = new Set<string>();
  readonly stored: Stored[] = [];
  replaced = 0;

  constructor(readonly net: Testnet, readonly c: ChurnConfig, readonly random: SeededRandom) {}

  live(): DhtNode[] {
    return this.net.nodes.filter((n) => !this.dead.has(n));
  }

  /** Immutable values and multi-writer set entries at r = 3, from publishers spread over the nodes. */
  async store(): Promise<void> {
    const { c, net } = this;
    await eachLimited(Array.from({ length: c.immutable + c.sets }, (_, i) => i), 8, async (i) => {
      const publisher = net.nodes[(i * 7919) % c.nodes]!;
      if (i < c.immutable) {
        const value = text(`T27 ${c.label} value ${i}`);
        this.stored.push({ kind: 'immutable', key: (await publisher.put(value, { replicationFactor: R })).key, value });
      } else {
        const value = text(`T27 ${c.label} entry ${i}`);
        const key = setKey(`T27 ${c.label} topic ${i}`);
        await publisher.addToSet(key, value, { replicationFactor: R });
        this.stored.push({ kind: 'set', key, value });
      }
    });
  }

  /** Replaces `c.replaced` random live nodes by fresh ones, refreshes the tables, runs one repair round. */
  async step(step: number): Promise<StepFigures> {
    const started = performance.now();
    const victims = this.live().map((n) => ({ n, r: this.random.next() })).sort((a, b) => a.r - b.r).slice(0, this.c.replaced).map((x) => x.n);
    for (const v of victims) { this.dead.add(v); this.stoppedIds.add(idToHex(v.id)); }
    await Promise.all(victims.map((v) => v.stop()));
    const via = this.live();
    await Promise.all(victims.map((_, i) => this.net.addNode({ bootstrap: [via[(step * 31 + i * 17) % via.length]!.address] })));
    this.replaced += victims.length;
    await refreshTables(this.live(), this.random);
    await Promise.all(this.live().map((n) => n.replicate()));
    const counts = this.liveAmongClosest();
    return { step, min: Math.min(...counts), median: median(counts), tookS: seconds(performance.now() - started), staleAfter: this.staleEntries() };
  }

  /** Live holders among the k closest live nodes, per key. */
  liveAmongClosest(): number[] {
    const nodes = this.live();
    return this.stored.map((s) => nodes.sort((a, b) => compareDistance(s.key, a.id, b.id)).slice(0, K).filter((n) => n.holds(s.key)).length);
  }

  /** Entries of stopped nodes left in the live nodes' routing tables. */
  staleEntries(): number {
    return this.live().reduce((sum, n) => sum + n.routingTable.closest(n.id, 10_000).filter((x) => this.stoppedIds.has(idToHex(x.id))).length, 0);
  }

  /** A live node that does not hold `key` (so a read goes through the network). */
  reader(key: Key, i: number): DhtNode {
    const nodes = this.live();
    return nodes.filter((n) => !n.holds(key))[i % 7] ?? nodes[0]!;
  }

  /** Keys read back and verified; the ones that failed, by short hex. */
  async readBack(): Promise<{ found: number; failed: string[] }> {
    let found = 0;
    const failed: string[] = [];
    await eachLimited(this.stored, 16, async (s, i) => {
      const reader = this.reader(s.key, i);
      const ok = await (s.kind === 'immutable'
        ? reader.get(s.key).then((g) => bytesEqual(g.value, s.value))
        : reader.getSet(s.key).then((g) => g.entries.some((e) => bytesEqual(e.value, s.value)))
      ).catch(() => false); // NOT_FOUND counts against the success figure
      if (ok) found++;
      else failed.push(idToHex(s.key).slice(0, 12));
    });
    return { found, failed };
  }

  /**
   * Replica-holder discovery (Kang et al. 2009): of the live holders among the k closest live
   * nodes, how many a FIND_NODE lookup from a non-holder returns among its k closest; and the
   * same over every live holder (publishers keep a copy wherever they are).
   */
  async discovery(): Promise<{ found: number; existing: number; allFound: number; all: number }> {
    const out = { found: 0, existing: 0, allFound: 0, all: 0 };
    const nodes = this.live();
    await eachLimited(this.stored, 16, async (s, i) => {
      const closest = [...nodes].sort((a, b) => compareDistance(s.key, a.id, b.id)).slice(0, K);
      const existing = closest.filter((n) => n.holds(s.key)).map((n) => idToHex(n.id));
      const every = nodes.filter((n) => n.holds(s.key)).map((n) => idToHex(n.id));
      const returned = new Set((await this.reader(s.key, i + 3).lookup(s.key)).closest.map((x) => idToHex(x.id)));
      out.existing += existing.length;
      out.found += existing.filter((id) => returned.has(id)).length;
      out.all += every.length;
      out.allFound += every.filter((id) => returned.has(id)).length;
    });
    return out;
  }
}

const nets: Testnet[] = [];
afterAll(async () => {
  await Promise.all(nets.map((net) => net.destroy()));
});

/** Runs one churn experiment, prints and reports its figures, and returns the graded ones. */
async function runChurn(c: ChurnConfig): Promise<{ success: number; medianLive: number; discovery: number }> {
  const t0 = performance.now();
  const net = await createTestnet(c.nodes, {
    random: new SeededRandom(c.seed + 1), repairInterval: 24 * hour, republishInterval: c.period,
    // Stopped peers cost a timeout per query that reaches them: keep it short on loopback.
    queryTimeout: 2000, lookupTimeout: 20_000, concurrency: c.nodes > 50 ? 16 : 8,
  });
  nets.push(net);
  // A node whose join PING timed out while the machine was busy joins again (once).
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
  const churn = new Churn(net, c, new SeededRandom(c.seed));
  const formed = performance.now();
  await churn.store();
  expect(churn.stored).toHaveLength(c.immutable + c.sets);
  const initial = churn.liveAmongClosest();
  const steps: StepFigures[] = [{ step: 0, min: Math.min(...initial), median: median(initial), tookS: 0, staleAfter: 0 }];
  const storedAt = performance.now();
  for (let step = 1; step <= c.steps; step++) {
    const started = performance.now();
    steps.push(await churn.step(step));
    const wait = c.period - (performance.now() - started);
    if (step < c.steps && wait > 0) await sleep(wait);
  }
  const churned = performance.now();
  const read = await churn.readBack();
  const found = await churn.discovery();
  const done = performance.now();

  const n = churn.stored.length;
  const success = read.found / n;
  const final = steps[steps.length - 1]!;
  const discovery = found.found / Math.max(1, found.existing);
  process.stdout.write(`\nT27 (${c.label}): ${c.nodes} nodes, ${n} keys at r = ${R}, ${c.steps} steps replacing ${c.replaced} each `
    + `(${churn.replaced} in all) over ${seconds(churned - storedAt)} s (steps took ${steps.slice(1).map((s) => s.tookS).join('/')} s); `
    + `live replicas among the k closest (min/median) by step: ${steps.map((s) => `${s.step}: ${s.min}/${s.median}`).join(', ')}; `
    + `stale table entries after each step ${steps.slice(1).map((s) => s.staleAfter).join('/')}; lookup success ${read.found}/${n}`
    + `${read.failed.length > 0 ? ` (failed ${read.failed.join(' ')})` : ''}; discovery ${found.found}/${found.existing} among the k closest, `
    + `${found.allFound}/${found.all} of all holders; formation ${seconds(formed - t0)} s, stores ${seconds(storedAt - formed)} s, reads ${seconds(done - churned)} s\n\n`);
  const t = THRESHOLDS.T27;
  const test = 'T27';
  for (const s of steps) report({ test, figure: `median_live_replicas_step_${s.step}`, value: s.median });
  report({ test, figure: 'lookup_success', value: success, threshold: t.lookup_success, pass: success >= t.lookup_success });
  report({ test, figure: 'median_live_replicas', value: final.median, threshold: t.median_live_replicas, pass: final.median >= t.median_live_replicas });
  report({ test, figure: 'min_live_replicas', value: final.min });
  report({ test, figure: 'discovery_ratio', value: discovery, threshold: t.discovery_ratio, pass: discovery >= t.discovery_ratio });
  report({ test, figure: 'discovery_ratio_all_holders', value: found.allFound / Math.max(1, found.all) });
  report({ test, figure: 'nodes_replaced', value: churn.replaced });
  return { success, medianLive: final.median, discovery };
}

describe('T27 churn (net)', () => {
  it.skipIf(SLOW)('T27 keeps stored keys findable and r replicas live while 30 nodes lose 10 % to fresh identities per step, twice', async () => {
    const t = THRESHOLDS.T27;
    const { success, medianLive, discovery } = await runChurn(CI);
    expect(success).toBeGreaterThanOrEqual(t.lookup_success);
    expect(medianLive).toBeGreaterThanOrEqual(t.median_live_replicas);
    expect(discovery).toBeGreaterThanOrEqual(t.discovery_ratio);
  }, 240_000);

  it.skipIf(!SLOW)('T27 keeps stored keys findable and r replicas live on 200 nodes over 3 minutes of churn (SLOW=1)', async () => {
    const t = THRESHOLDS.T27;
    const { success, medianLive, discovery } = await runChurn(FULL);
    expect(success).toBeGreaterThanOrEqual(t.lookup_success);
    expect(medianLive).toBeGreaterThanOrEqual(t.median_live_replicas);
    expect(discovery).toBeGreaterThanOrEqual(t.discovery_ratio);
  }, 30 * 60_000);
});
