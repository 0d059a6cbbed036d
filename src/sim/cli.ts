#!/usr/bin/env node
/**
 * `npm run sim -- SCENARIO [options]`: runs a simulator scenario and prints its figures (a table
 * by default, one JSON object per figure with --json); churn and scale also write an SVG plot.
 * See docs/simulation.md.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LatencySpec } from './network.js';
import {
  type CommonOptions, type Figure, type Progress, runAdversarial, runChurn, runStatic, type ScenarioResult, type Series, type Table,
} from './scenarios.js';
import { round } from './stats.js';
import { linePlot } from './svg.js';

const USAGE = `usage: npm run sim -- static|churn|adversarial|scale [options]
  --nodes N            network size (default 1000; scale: --sizes)
  --seed S             random seed (default 1); same seed, same figures
  --json               one JSON object per figure instead of tables
  --latency SPEC       lognormal:MEDIAN:SIGMA (default lognormal:50:0.5), uniform:MIN:MAX or constant:MS (one way, ms)
  --loss P             message loss probability (default 0)
  --inbound-share X    routing-table inbound-only share (default the node's 0.2; Infinity = no table-wide bound)
  --lookups L          static/adversarial/scale: lookups per cell (default 1000)
  --join MODE          static: protocol | oracle (default protocol up to 5,000 nodes, oracle above)
  --paths D            static: disjoint paths per lookup (default 1)
  --minutes M          churn: simulated minutes (default 120)
  --rate R             churn: share of nodes replaced per minute (default 0.1)
  --keys K             churn: keys stored (default 1000)
  --replicas R         churn: replicas per key (default 5)
  --repair-interval S  churn: replicator round interval in seconds (default 60)
  --refresh S          churn: a bucket idle this long is refreshed, seconds (default DhtNode's 3600)
  --sizes LIST         scale: network sizes (default 1000,10000,100000)
  --svg FILE           churn/scale: where the plot goes (default sim-SCENARIO.svg)
  --quiet              no progress bar`;

function latency(spec: string): LatencySpec {
  const [kind, a, b] = spec.split(':');
  const n = (x: string | undefined): number => {
    const v = Number(x);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`bad --latency ${spec}`);
    return v;
  };
  if (kind === 'constant') return { kind, ms: n(a) };
  if (kind === 'uniform') return { kind, min: n(a), max: n(b) };
  if (kind === 'lognormal') return { kind, median: n(a), sigma: n(b) };
  throw new RangeError(`bad --latency ${spec}: lognormal, uniform or constant`);
}

/** A one-line progress bar on a terminal; nothing elsewhere. */
function progressBar(quiet: boolean): Progress | undefined {
  if (quiet || !process.stderr.isTTY) return undefined;
  let last = 0;
  return (label, done, total) => {
    const now = performance.now();
    if (done < total && now - last < 200) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r${label.padEnd(16)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ${done}/${total}\x1b[K`);
    if (done >= total) process.stderr.write('\n');
  };
}

function printTable(t: Table): void {
  const cells = [t.header.map(String), ...t.rows.map((r) => r.map(String))];
  const widths = t.header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  // Text columns align left, numbers right.
  const numeric = t.header.map((_, i) => t.rows.every((r) => typeof r[i] === 'number'));
  console.log(`\n${t.title}`);
  cells.forEach((r, j) => {
    console.log(r.map((c, i) => (numeric[i] === true ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '));
    if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

function print(result: ScenarioResult, json: boolean): void {
  if (json) {
    for (const f of result.figures) console.log(JSON.stringify(f));
    return;
  }
  for (const t of result.tables) printTable(t);
  const labels = (f: Figure): string => Object.entries(f)
    .filter(([k]) => !['scenario', 'figure', 'value', 'unit', 'nodes', 'seed'].includes(k))
    .map(([k, v]) => `${k}=${String(v)}`).join(' ');
  printTable({
    title: `Figures (${result.scenario}, seed ${result.figures[0]?.seed ?? '?'})`,
    header: ['figure', 'value', 'unit', 'nodes', 'labels'],
    rows: result.figures.map((f) => [f.figure, f.value, f.unit ?? '', f.nodes, labels(f)]),
  });
}

/** Runs `static --join oracle` in a fresh process per size, so memory and time are its own. */
async function runScale(sizes: number[], seed: number, lookups: number, extra: string[], quiet: boolean): Promise<ScenarioResult> {
  const figures: Figure[] = [];
  const rows: (string | number)[][] = [];
  const hopsMean: [number, number][] = [];
  const hopsP99: [number, number][] = [];
  for (const n of sizes) {
    const args = [
      '--expose-gc', `--max-old-space-size=${Math.max(4096, Math.ceil(n / 1000) * 24)}`, fileURLToPath(import.meta.url),
      'static', '--nodes', String(n), '--seed', String(seed), '--lookups', String(lookups), '--join', 'oracle', '--json', ...extra,
      ...(quiet ? ['--quiet'] : []),
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`static --nodes ${n} exited with ${code}`))));
    });
    const got = new Map<string, number>();
    for (const line of out.split('\n')) {
      if (line.trim() === '') continue;
      const f = JSON.parse(line) as Figure;
      got.set(f.figure, f.value);
      figures.push({ ...f, scenario: 'scale' });
    }
    const v = (name: string): number => got.get(name) ?? NaN;
    rows.push([n, v('hops_median'), v('hops_p99'), v('hops_mean'), v('messages_per_lookup'), v('recall_at_k'), v('latency_p50_ms'),
      v('wall_ms_per_lookup'), v('build_wall_s'), round(v('bytes_per_node'), 0), round(v('rss_mb'), 0)]);
    hopsMean.push([n, v('hops_mean')]);
    hopsP99.push([n, v('hops_p99')]);
  }
  const series: Series[] = [{ name: 'hops (mean)', points: hopsMean }, { name: 'hops (p99)', points: hopsP99 }];
  return {
    scenario: 'scale', figures, series,
    tables: [{
      title: 'Scale (tables filled from global knowledge; lookups through the real code)',
      header: ['N', 'hops p50', 'hops p99', 'hops mean', 'msgs/lookup', 'recall@k', 'latency p50 ms', 'wall ms/lookup', 'build s', 'bytes/node', 'rss MiB'],
      rows,
    }],
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      nodes: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, latency: { type: 'string' }, loss: { type: 'string' },
      'inbound-share': { type: 'string' }, lookups: { type: 'string' }, join: { type: 'string' }, paths: { type: 'string' },
      minutes: { type: 'string' }, rate: { type: 'string' }, keys: { type: 'string' }, replicas: { type: 'string' },
      'repair-interval': { type: 'string' }, refresh: { type: 'string' }, sizes: { type: 'string' }, svg: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  const scenario = positionals[0];
  if (values.help === true || scenario === undefined) {
    console.log(USAGE);
    return scenario === undefined && values.help !== true ? 2 : 0;
  }
  const num = (name: keyof typeof values, fallback: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (Number.isNaN(v)) throw new RangeError(`--${name} must be a number`);
    return v;
  };
  const quiet = values.quiet === true;
  const common: CommonOptions = {
    nodes: num('nodes', 1000), seed: num('seed', 1), progress: progressBar(quiet),
    latency: values.latency === undefined ? undefined : latency(values.latency),
    loss: values.loss === undefined ? undefined : num('loss', 0),
    inboundShare: values['inbound-share'] === undefined ? undefined : num('inbound-share', 0.2),
  };
  const lookups = num('lookups', 1000);
  let result: ScenarioResult;
  let plot: string | null = null;
  switch (scenario) {
    case 'static': {
      const join = values.join;
      if (join !== undefined && join !== 'protocol' && join !== 'oracle') throw new RangeError('--join must be protocol or oracle');
      result = await runStatic({ ...common, lookups, join, paths: num('paths', 1) });
      break;
    }
    case 'adversarial':
      result = await runAdversarial({ ...common, lookups });
      break;
    case 'churn':
      result = await runChurn({
        ...common, minutes: num('minutes', 120), rate: num('rate', 0.1), keys: num('keys', 1000), replicas: num('replicas', 5),
        repairInterval: num('repair-interval', 60) * 1000, refreshInterval: num('refresh', 3600) * 1000,
      });
      plot = linePlot({ title: `Churn: ${common.nodes} nodes, ${Math.round(num('rate', 0.1) * 100)} % replaced per minute`, xLabel: 'simulated minute', yLabel: 'share', series: result.series, yRange: [0, 1.05] });
      break;
    case 'scale': {
      const sizes = (values.sizes ?? '1000,10000,100000').split(',').map(Number);
      if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new RangeError('--sizes must list integers ≥ 2');
      const extra = [
        ...(values.latency === undefined ? [] : ['--latency', values.latency]),
        ...(values['inbound-share'] === undefined ? [] : ['--inbound-share', values['inbound-share']]),
      ];
      result = await runScale(sizes, common.seed, lookups, extra, quiet);
      plot = linePlot({ title: 'Lookup hops vs network size', xLabel: 'nodes (log scale)', yLabel: 'hops', series: result.series, logX: true });
      break;
    }
    default:
      console.error(`unknown scenario '${scenario}'\n${USAGE}`);
      return 2;
  }
  print(result, values.json === true);
  if (plot !== null) {
    const file = values.svg ?? `sim-${scenario}.svg`;
    writeFileSync(file, plot);
    if (values.json !== true) console.log(`\nplot written to ${file}`);
  }
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
