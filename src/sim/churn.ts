/** The churn scenario (T27, sim): nodes replaced every minute while replication keeps the keys alive. */
import { blake3 } from '../crypto/index.js';
import { idToHex, type Key } from '../id/index.js';
import { type Clock, hour, MAX_TTL, minute, type SeededRandom } from '../util/index.js';
import { quantile, round } from './stats.js';
import { type CommonOptions, type Figure, LOOKUP_LIMIT, populate, type ScenarioResult, tableInit } from './scenario.js';
import { liveTimers, SimWorld } from './world.js';

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
  /** Idle time after which a bucket is refreshed, ms. Default DhtNode's (1 h). */
  refreshInterval?: number;
  /** Bootstrap peers a newcomer is given (random live nodes), as a client ships a list. Default 3. */
  bootstraps?: number;
}

/** Times a sample lookup is made again from another node when the one it ran from left meanwhile. */
const ORIGIN_RETRIES = 3;

/**
 * Lays out a churn timeline in advance: `perMinute` calls of `replace` at random instants of each
 * of the next `minutes` minutes of `clock`. Because the instants are fixed now, the churn keeps its
 * pace whatever else runs on the clock: a measurement that takes virtual minutes sees the churn go
 * on around it. (A schedule made minute by minute after each measurement bunches the minutes a slow
 * measurement spanned into one instant: half the network replaced at once, which is what made the
 * first recorded two-hour run collapse; docs/simulation.md.)
 */
export function scheduleChurn(clock: Clock, random: SeededRandom, minutes: number, perMinute: number, replace: () => void): void {
  for (let m = 0; m < minutes; m++) {
    for (let j = 0; j < perMinute; j++) clock.setTimeout(replace, m * minute + random.int(minute));
  }
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
    timers: liveTimers({ interval: o.repairInterval ?? minute, republishInterval: o.republishInterval ?? hour, batch: 256 }, o.refreshInterval),
  });
  const k = world.k;
  const samples: {
    minute: number; success: number; held: number; lost: number; liveK: number; liveR: number; discovery: number; dead: number; tableSize: number;
  }[] = [];
  const all = { lookups: 0, found: 0, discovered: 0, existing: 0, originLeft: 0, heldLookups: 0, heldFound: 0 };
  /** Virtual ms each measurement took. */
  const spans: number[] = [];
  try {
    populate(world, o.nodes);
    world.oracleJoin();
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
    // Every key is looked up at once, from a random node each: a sample spans the time of its
    // slowest lookup (at most LOOKUP_TIMEOUT plus RPC timeouts), not keys / concurrency rounds.
    const measure = async (m: number): Promise<void> => {
      const began = world.clock.now();
      let found = 0;
      let discovered = 0;
      let existing = 0;
      /** Keys some live node holds, and those of them found. */
      let held = 0;
      let heldFound = 0;
      const liveK: number[] = [];
      const liveR: number[] = [];
      const runs = keys.map(async (key) => {
        const closest = world.trueClosest(key, k);
        const holders = closest.filter((n) => n.records.has(key));
        liveK.push(holders.length);
        liveR.push(closest.slice(0, r).filter((n) => n.records.has(key)).length);
        // A key no live node holds any more is lost, whatever the lookup does: counted apart.
        const stored = world.nodes.some((n) => n.records.has(key));
        let from = world.pick();
        let { result, holders: seen } = await from.findValue(key);
        // A lookup whose own node left while it ran (its RPC closed) says nothing about the
        // network: it runs again from another live node (counted in `origin_left`).
        for (let i = 0; i < ORIGIN_RETRIES && !from.running; i++) {
          all.originLeft++;
          from = world.pick();
          ({ result, holders: seen } = await from.findValue(key));
        }
        const ok = result.value !== null || from.records.has(key);
        if (ok) found++;
        if (stored) held++;
        if (stored && ok) heldFound++;
        const holderIds = new Set(holders.map((n) => idToHex(n.id)));
        discovered += seen.filter((c) => holderIds.has(idToHex(c.id))).length;
        existing += holders.filter((n) => n !== from).length;
      });
      await world.clock.waitFor(Promise.all(runs), LOOKUP_LIMIT);
      spans.push(world.clock.now() - began);
      all.lookups += keys.length;
      all.found += found;
      all.discovered += discovered;
      all.existing += existing;
      all.heldLookups += held;
      all.heldFound += heldFound;
      // Table decay: the share of routing-table entries (over every live node) naming a node that left.
      const live = new Set(world.nodes.map((n) => idToHex(n.id)));
      let entries = 0;
      let dead = 0;
      for (const n of world.nodes) {
        for (const e of n.table.entries()) {
          entries++;
          if (!live.has(idToHex(e.contact.id))) dead++;
        }
      }
      samples.push({
        minute: m, success: found / keys.length, held: held === 0 ? 1 : heldFound / held, lost: keys.length - held, liveK: quantile(liveK, 0.5), liveR: quantile(liveR, 0.5),
        discovery: existing === 0 ? 1 : discovered / existing, dead: entries === 0 ? 0 : dead / entries, tableSize: entries / Math.max(1, world.size),
      });
    };
    await measure(0);
    const start = world.clock.now();
    const perMinute = Math.round(rate * o.nodes);
    scheduleChurn(world.clock, world.random, minutes, perMinute, () => {
      // A node vanishes, a fresh one joins through a random live node.
      world.removeNode(world.pick());
      const bootstraps = Array.from({ length: o.bootstraps ?? 3 }, () => world.pick().contact);
      void world.addNode().join(bootstraps);
    });
    for (let m = 1; m <= minutes; m++) {
      await world.clock.runUntil(start + m * minute);
      if (m % sampleEvery === 0 || m === minutes) await measure(m);
      o.progress?.('churn minutes', m, minutes);
    }
    const fig = (figure: string, value: number, unit?: string): Figure =>
      ({ scenario: 'churn', figure, value: round(value, 4), unit, nodes: o.nodes, seed: o.seed, minutes, rate, replicas: r });
    const figures = [
      fig('lookup_success', all.found / all.lookups),
      fig('lookup_success_min', Math.min(...samples.map((s) => s.success))),
      // Success among the keys some live node still held: the lookups' share, apart from storage.
      fig('lookup_success_stored', all.heldLookups === 0 ? 1 : all.heldFound / all.heldLookups),
      fig('keys_lost', samples.at(-1)?.lost ?? 0),
      fig('origin_left', all.originLeft),
      fig('median_live_replicas_k', quantile(samples.map((s) => s.liveK), 0.5)),
      fig('median_live_replicas_r', quantile(samples.map((s) => s.liveR), 0.5)),
      fig('min_median_live_replicas_r', Math.min(...samples.map((s) => s.liveR))),
      fig('discovery_ratio', all.existing === 0 ? 1 : all.discovered / all.existing),
      fig('table_dead_share_max', Math.max(...samples.map((s) => s.dead))),
      fig('sample_span_s_max', Math.max(...spans) / 1000, 's'),
      fig('nodes_replaced', perMinute * minutes),
      fig('messages_per_node_minute', world.network.counters.sent / o.nodes / Math.max(1, minutes)),
      fig('wall_s', (performance.now() - started) / 1000, 's'),
      fig('rss_mb', process.memoryUsage().rss / 2 ** 20, 'MiB'),
    ];
    return {
      scenario: 'churn', figures,
      tables: [{
        title: `Churn: ${Math.round(rate * 100)} % of ${o.nodes} nodes replaced per minute, ${keyCount} keys at r = ${r}`,
        header: ['minute', 'success', 'success, stored keys', 'keys lost', `median live among k`, `median live among r`, 'discovery', 'dead in tables', 'table size'],
        rows: samples.map((s) => [s.minute, round(s.success, 3), round(s.held, 3), s.lost, s.liveK, s.liveR, round(s.discovery, 3), round(s.dead, 3), Math.round(s.tableSize)]),
      }],
      series: [
        { name: 'lookup success', points: samples.map((s) => [s.minute, s.success]) },
        { name: 'discovery ratio', points: samples.map((s) => [s.minute, s.discovery]) },
        { name: `live among r (÷ ${r})`, points: samples.map((s) => [s.minute, s.liveR / r]) },
        { name: 'dead share of table entries', points: samples.map((s) => [s.minute, s.dead]) },
      ],
    };
  } finally {
    world.stop();
  }
}
