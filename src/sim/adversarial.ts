/** The adversarial scenario (T19): adversaries that answer only with each other, d disjoint paths. */
import { mean, round } from './stats.js';
import { type CommonOptions, type Figure, populate, sampleLookups, type ScenarioResult, tableInit } from './scenario.js';
import { SimWorld } from './world.js';

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

