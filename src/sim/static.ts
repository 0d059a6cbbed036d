/** The static scenario (T26, sim): N nodes join, then random lookups against global knowledge. */
import { histogram, mean, quantile, round } from './stats.js';
import {
  type CommonOptions, type Figure, type JoinMode, memoryBytes, populate, protocolJoin, sampleLookups, type ScenarioResult, tableInit,
} from './scenario.js';
import { liveTimers, SimWorld } from './world.js';

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

