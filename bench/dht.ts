/**
 * `npm run bench:dht`: puts and gets of 1 KiB values on a 20-node loopback testnet, one at a
 * time and 16 at a time. Prints a table, or one JSON object per figure with --json.
 * Figures: put_ops_s, get_ops_s, put_p99_ms, get_p99_ms, each with mode seq or c16.
 */
import { createTestnet, type DhtNode, type Key } from '../src/index.js';

const json = process.argv.includes('--json');
const OPS = Number(process.env.BENCH_OPS ?? 1000);
const NODES = 20;
const VALUE_BYTES = 1024;
/** No run may take longer than this, whatever happens. */
const DEADLINE_MS = 10 * 60_000;

interface Figure { figure: string; mode: string; value: number; unit: string }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `ops` operations with `concurrency` workers; returns ops/s and latencies. */
async function measure(ops: number, concurrency: number, op: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < ops && performance.now() - started < DEADLINE_MS) {
      const i = next++;
      const t = performance.now();
      try { await op(i); latencies.push(performance.now() - t); } catch { failures++; } // counted, reported below
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSec: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

function value(i: number, salt: number): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  new DataView(v.buffer).setUint32(0, i);
  new DataView(v.buffer).setUint32(4, salt);
  return v;
}

async function main(): Promise<void> {
  const net = await createTestnet(NODES);
  const figures: Figure[] = [];
  const rows: string[] = [];
  try {
    const pick = (i: number): DhtNode => net.nodes[i % NODES]!;
    for (const [mode, concurrency] of [['seq', 1], ['c16', 16]] as const) {
      const salt = concurrency;
      const keys: Key[] = new Array(OPS);
      const puts = await measure(OPS, concurrency, async (i) => { keys[i] = (await pick(i).put(value(i, salt))).key; });
      const gets = await measure(OPS, concurrency, async (i) => {
        const key = keys[i];
        if (key === undefined) throw new Error('put failed');
        await pick(i + 7).get(key);
      });
      figures.push(
        { figure: 'put_ops_s', mode, value: puts.opsPerSec, unit: 'ops/s' },
        { figure: 'get_ops_s', mode, value: gets.opsPerSec, unit: 'ops/s' },
        { figure: 'put_p99_ms', mode, value: puts.p99, unit: 'ms' },
        { figure: 'get_p99_ms', mode, value: gets.p99, unit: 'ms' },
      );
      rows.push(`${mode.padEnd(5)} put ${puts.opsPerSec.toFixed(0).padStart(6)} ops/s  p50 ${puts.p50.toFixed(1).padStart(6)} ms  p99 ${puts.p99.toFixed(1).padStart(6)} ms  failed ${puts.failures}`);
      rows.push(`${mode.padEnd(5)} get ${gets.opsPerSec.toFixed(0).padStart(6)} ops/s  p50 ${gets.p50.toFixed(1).padStart(6)} ms  p99 ${gets.p99.toFixed(1).padStart(6)} ms  failed ${gets.failures}`);
    }
  } finally {
    await net.destroy();
  }
  if (json) {
    for (const f of figures) console.log(JSON.stringify({ bench: 'dht', ...f, value: Math.round(f.value * 100) / 100 }));
  } else {
    console.log(`dht bench: ${NODES} nodes on 127.0.0.1, ${OPS} puts and ${OPS} gets of ${VALUE_BYTES} B values per mode`);
    for (const row of rows) console.log(row);
  }
}

await main();
