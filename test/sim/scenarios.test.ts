/**
 * Simulator scenarios at CI size (issue 7): the same seed gives the same figures; static
 * lookups reach the true k closest (T26, sim); disjoint paths beat adversaries that answer only
 * with each other (T19); stored keys survive churn (T27, sim). Larger runs behind SLOW=1.
 * Every run is bounded: virtual time by the scenario, each lookup batch by a 10-minute virtual limit.
 */
import { describe, expect, it } from 'vitest';
import { EventClock } from '../../src/sim/clock.js';
import { type Figure, runAdversarial, runChurn, runStatic, scheduleChurn } from '../../src/sim/scenarios.js';
import { minute, SeededRandom } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const SLOW = process.env.SLOW === '1';
/** Figures that measure the machine, not the simulation. */
const MACHINE = new Set(['wall_s', 'rss_mb', 'bytes_per_node', 'build_wall_s', 'wall_ms_per_lookup']);

const value = (figures: readonly Figure[], name: string, labels: Record<string, number> = {}): number => {
  const f = figures.find((x) => x.figure === name && Object.entries(labels).every(([k, v]) => x[k] === v));
  if (f === undefined) throw new Error(`no figure ${name}`);
  return f.value;
};
const simulated = (figures: readonly Figure[]): Figure[] => figures.filter((f) => !MACHINE.has(f.figure));
/** One report line per figure (test/helpers/report.ts), with its threshold where it has one. */
const reportAll = (test: string, figures: Record<string, number>, thresholds: Record<string, number> = {}): void => {
  for (const [figure, v] of Object.entries(figures)) {
    const threshold = thresholds[figure];
    report(threshold === undefined ? { test, figure, value: v } : { test, figure, value: v, threshold, pass: v >= threshold });
  }
};

describe('simulator scenarios', () => {
  it('same seed ⇒ same figures (protocol join and oracle join), another seed ⇒ other figures', async () => {
    const a = await runStatic({ nodes: 150, seed: 11, lookups: 50, join: 'protocol' });
    const b = await runStatic({ nodes: 150, seed: 11, lookups: 50, join: 'protocol' });
    expect(simulated(b.figures)).toEqual(simulated(a.figures));
    expect(b.tables).toEqual(a.tables);
    const c = await runStatic({ nodes: 500, seed: 12, lookups: 100, join: 'oracle' });
    const d = await runStatic({ nodes: 500, seed: 12, lookups: 100, join: 'oracle' });
    const e = await runStatic({ nodes: 500, seed: 13, lookups: 100, join: 'oracle' });
    expect(simulated(d.figures)).toEqual(simulated(c.figures));
    expect(value(e.figures, 'latency_p50_ms')).not.toBe(value(c.figures, 'latency_p50_ms'));
  });

  it('T26 (sim): 1,000 lookups in 2,000 nodes reach the true k closest (recall@k ≥ 0.95)', async () => {
    const nodes = SLOW ? 20_000 : 2000;
    const r = await runStatic({ nodes, seed: 26, lookups: 1000, join: 'oracle' });
    const recall = value(r.figures, 'recall_at_k');
    reportAll('T26_sim', { nodes, recall_at_k: recall, hops_median: value(r.figures, 'hops_median'), hops_p99: value(r.figures, 'hops_p99'), messages_per_lookup: value(r.figures, 'messages_per_lookup'), latency_p99_ms: value(r.figures, 'latency_p99_ms') }, THRESHOLDS.T26_sim);
    expect(recall).toBeGreaterThanOrEqual(THRESHOLDS.T26_sim.recall_at_k);
    expect(value(r.figures, 'hops_p99')).toBeLessThanOrEqual(Math.ceil(Math.log2(nodes)));
  });

  it('T19: with 20 % adversaries, 4 disjoint paths succeed ≥ 90 % and more paths never do worse', async () => {
    const paths = [1, 2, 4];
    const r = await runAdversarial({ nodes: 1000, seed: 19, fractions: [0.2], paths, lookups: SLOW ? 1000 : 300 });
    const success = paths.map((d) => value(r.figures, 'lookup_success', { d }));
    reportAll('T19', { success_d1_f20: success[0]!, success_d2_f20: success[1]!, success_d4_f20: success[2]! }, THRESHOLDS.T19);
    expect(success[2]).toBeGreaterThanOrEqual(THRESHOLDS.T19.success_d4_f20);
    // Non-decreasing in d, within the sampling noise of 300 lookups.
    for (let i = 1; i < success.length; i++) expect(success[i]!).toBeGreaterThanOrEqual(success[i - 1]! - 0.02);
  });

  it('the churn timeline keeps its pace while a long measurement runs on the same clock', async () => {
    const clock = new EventClock();
    const start = clock.now();
    const at: number[] = [];
    scheduleChurn(clock, new SeededRandom(5), 4, 25, () => at.push(clock.now() - start));
    // A "measurement" that takes 2.5 virtual minutes, started at once, as runChurn's do.
    await clock.waitFor(new Promise<void>((resolve) => clock.setTimeout(resolve, 2.5 * minute)), 10 * minute);
    expect(at.filter((t) => t < 2.5 * minute).length).toBeGreaterThan(40);
    await clock.runUntil(start + 4 * minute);
    expect(at).toHaveLength(100);
    for (let m = 0; m < 4; m++) {
      const inMinute = at.filter((t) => t >= m * minute && t < (m + 1) * minute);
      expect(inMinute).toHaveLength(25);
      // Spread over the minute, not bunched at one instant.
      expect(new Set(inMinute).size).toBeGreaterThan(20);
    }
  });

  it('T27 (sim): 10 % of 1,000 nodes replaced per minute; stored keys stay found (≥ 99 %)', async () => {
    // SLOW: the full scenario, 2 simulated hours with 1,000 keys (about an hour of wall
    // time). Recorded two-hour runs (docs/simulation.md): seed 1 held 0.9993 with no key lost;
    // this seed, 27, held 0.9985 with 4 keys lost.
    const minutes = SLOW ? 120 : 4;
    const r = await runChurn({ nodes: 1000, seed: 27, keys: SLOW ? 1000 : 40, minutes, sampleEvery: SLOW ? 10 : 2 });
    const success = value(r.figures, 'lookup_success');
    const discovery = value(r.figures, 'discovery_ratio');
    reportAll('T27_sim', { minutes, lookup_success: success, discovery_ratio: discovery, median_live_replicas_r: value(r.figures, 'median_live_replicas_r') }, THRESHOLDS.T27_sim);
    expect(value(r.figures, 'nodes_replaced')).toBe(100 * minutes);
    expect(success).toBeGreaterThanOrEqual(THRESHOLDS.T27_sim.lookup_success);
    expect(discovery).toBeGreaterThanOrEqual(THRESHOLDS.T27_sim.discovery_ratio);
  }, SLOW ? 3 * 3600_000 : undefined);
});
