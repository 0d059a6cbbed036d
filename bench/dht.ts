/**
 * `npm run bench:dht`: operations on a 20-node loopback testnet. Puts and gets of 1 KiB
 * immutable values and of 1 KiB signed mutable records, one at a time (seq) and 16 at a time
 * (c16); then one large file streamed in and out with putStream / getStream. Prints a table, or
 * one JSON object per figure with --json.
 * Figures: put_ops_s, get_ops_s, put_p99_ms, get_p99_ms, mutable_put_ops_s, mutable_get_ops_s,
 * mutable_put_p50_ms, mutable_put_p99_ms, mutable_get_p50_ms, mutable_get_p99_ms (each with mode
 * seq or c16), content_put_mb_s, content_get_mb_s (mode stream).
 * Env: BENCH_OPS (operations per phase, default 1000), BENCH_CONTENT_MIB (file size, default 256).
 */
import { createHasher } from '../src/crypto/index.js';
import { createTestnet, type DhtNode, type Key, type Testnet } from '../src/index.js';

const json = process.argv.includes('--json');
const OPS = Number(process.env.BENCH_OPS ?? 1000);
const CONTENT_MIB = Number(process.env.BENCH_CONTENT_MIB ?? 256);
const NODES = 20;
const VALUE_BYTES = 1024;
const MiB = 1024 * 1024;
/** No phase may take longer than this, whatever happens. */
const DEADLINE_MS = 10 * 60_000;

/**
 * One figure; `failed` counts the operations of its phase that threw and `errors` names their
 * codes (absent where they do not apply).
 */
interface Figure { figure: string; mode: string; value: number; unit: string; failed?: number; errors?: Record<string, number> }
interface Measured { opsPerSec: number; p50: number; p99: number; failures: number; errors: Record<string, number> }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `ops` operations with `concurrency` workers; returns ops/s and latencies. */
async function measure(ops: number, concurrency: number, op: (i: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const errors: Record<string, number> = {};
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < ops && performance.now() - started < DEADLINE_MS) {
      const i = next++;
      const t = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t);
      } catch (err) {
        failures++; // counted by error code, reported below
        const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'other';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSec: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, errors };
}

function value(i: number, salt: number): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  new DataView(v.buffer).setUint32(0, i);
  new DataView(v.buffer).setUint32(4, salt);
  return v;
}

/** The failure fields of a figure measured by `m`. */
function outcome(m: Measured): Pick<Figure, 'failed' | 'errors'> {
  return m.failures === 0 ? { failed: 0 } : { failed: m.failures, errors: m.errors };
}

function row(mode: string, what: string, m: Measured): string {
  const f = (v: number, d: number, w: number): string => v.toFixed(d).padStart(w);
  const why = m.failures === 0 ? '' : ` (${Object.entries(m.errors).map(([code, n]) => `${code} ${n}`).join(', ')})`;
  return `${mode.padEnd(5)} ${what.padEnd(11)} ${f(m.opsPerSec, 0, 6)} ops/s  p50 ${f(m.p50, 1, 6)} ms  p99 ${f(m.p99, 1, 6)} ms  failed ${m.failures}${why}`;
}

/** Immutable 1 KiB puts then gets, spread over the nodes. */
async function immutable(net: Testnet, mode: string, concurrency: number, figures: Figure[], rows: string[]): Promise<void> {
  const pick = (i: number): DhtNode => net.nodes[i % NODES]!;
  const keys: Key[] = new Array(OPS);
  const puts = await measure(OPS, concurrency, async (i) => { keys[i] = (await pick(i).put(value(i, concurrency))).key; });
  const gets = await measure(OPS, concurrency, async (i) => {
    const key = keys[i];
    if (key === undefined) throw new Error('put failed');
    await pick(i + 7).get(key);
  });
  figures.push(
    { figure: 'put_ops_s', mode, value: puts.opsPerSec, unit: 'ops/s', ...outcome(puts) },
    { figure: 'get_ops_s', mode, value: gets.opsPerSec, unit: 'ops/s', ...outcome(gets) },
    { figure: 'put_p99_ms', mode, value: puts.p99, unit: 'ms', ...outcome(puts) },
    { figure: 'get_p99_ms', mode, value: gets.p99, unit: 'ms', ...outcome(gets) },
  );
  rows.push(row(mode, 'put', puts), row(mode, 'get', gets));
}

/**
 * Signed mutable records: each operation a fresh (key pair of the writing node, salt) record,
 * so a put is a read lookup, an ML-DSA-65 signature and r STOREs; a get is a quorum read of every
 * holder among the closest, each record's signature verified.
 */
async function mutable(net: Testnet, mode: string, concurrency: number, figures: Figure[], rows: string[]): Promise<void> {
  const pick = (i: number): DhtNode => net.nodes[i % NODES]!;
  const salt = (i: number): Uint8Array => new TextEncoder().encode(`bench/${mode}/${i}`);
  const written: boolean[] = new Array(OPS).fill(false);
  const puts = await measure(OPS, concurrency, async (i) => {
    await pick(i).putMutable(value(i, concurrency), { salt: salt(i) });
    written[i] = true;
  });
  const gets = await measure(OPS, concurrency, async (i) => {
    if (!written[i]) throw new Error('put failed');
    await pick(i + 7).getMutable(pick(i).identity.dsa.publicKey, { salt: salt(i) });
  });
  figures.push(
    { figure: 'mutable_put_ops_s', mode, value: puts.opsPerSec, unit: 'ops/s', ...outcome(puts) },
    { figure: 'mutable_get_ops_s', mode, value: gets.opsPerSec, unit: 'ops/s', ...outcome(gets) },
    { figure: 'mutable_put_p50_ms', mode, value: puts.p50, unit: 'ms', ...outcome(puts) },
    { figure: 'mutable_put_p99_ms', mode, value: puts.p99, unit: 'ms', ...outcome(puts) },
    { figure: 'mutable_get_p50_ms', mode, value: gets.p50, unit: 'ms', ...outcome(gets) },
    { figure: 'mutable_get_p99_ms', mode, value: gets.p99, unit: 'ms', ...outcome(gets) },
  );
  rows.push(row(mode, 'mutable put', puts), row(mode, 'mutable get', gets));
}

/** `bytes` of generated content in 1 MiB pieces, fed to `hasher` as they are made. */
function* generate(bytes: number, hasher: { update(b: Uint8Array): unknown }): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes; offset += MiB) {
    const words = new Uint32Array(Math.min(MiB, bytes - offset) / 4);
    const base = offset / 4;
    for (let i = 0; i < words.length; i++) words[i] = Math.imul(base + i, 0x9e3779b1) ^ 0x5bd1e995;
    const piece = new Uint8Array(words.buffer);
    hasher.update(piece);
    yield piece;
  }
}

/** One file of CONTENT_MIB streamed in on one node and out on another; MB/s = 10^6 bytes/s. */
async function content(net: Testnet, figures: Figure[], rows: string[]): Promise<void> {
  const bytes = CONTENT_MIB * MiB;
  const input = createHasher();
  let started = performance.now();
  const put = await net.nodes[3]!.putStream(generate(bytes, input));
  const putSeconds = (performance.now() - started) / 1000;
  const output = createHasher();
  let got = 0;
  started = performance.now();
  for await (const chunk of net.nodes[11]!.getStream(put.key)) {
    output.update(chunk);
    got += chunk.byteLength;
  }
  const getSeconds = (performance.now() - started) / 1000;
  const [sent, read] = [input.digest(), output.digest()];
  if (got !== bytes || !sent.every((b, i) => b === read[i])) throw new Error(`content read back differs (${got} of ${bytes} bytes)`);
  figures.push(
    { figure: 'content_put_mb_s', mode: 'stream', value: bytes / 1e6 / putSeconds, unit: 'MB/s' },
    { figure: 'content_get_mb_s', mode: 'stream', value: bytes / 1e6 / getSeconds, unit: 'MB/s' },
  );
  rows.push(`stream content put ${(bytes / 1e6 / putSeconds).toFixed(1).padStart(6)} MB/s  (${CONTENT_MIB} MiB, ${put.chunks} chunks, ${putSeconds.toFixed(1)} s)`);
  rows.push(`stream content get ${(bytes / 1e6 / getSeconds).toFixed(1).padStart(6)} MB/s  (${CONTENT_MIB} MiB, digest equal, ${getSeconds.toFixed(1)} s)`);
}

async function main(): Promise<void> {
  if (!Number.isInteger(OPS) || OPS < 1) throw new RangeError('BENCH_OPS must be a positive integer');
  if (!Number.isInteger(CONTENT_MIB) || CONTENT_MIB < 1 || CONTENT_MIB > 1900) throw new RangeError('BENCH_CONTENT_MIB must be an integer in 1..1900');
  const net = await createTestnet(NODES);
  const figures: Figure[] = [];
  const rows: string[] = [];
  try {
    for (const [mode, concurrency] of [['seq', 1], ['c16', 16]] as const) await immutable(net, mode, concurrency, figures, rows);
    for (const [mode, concurrency] of [['seq', 1], ['c16', 16]] as const) await mutable(net, mode, concurrency, figures, rows);
    await content(net, figures, rows);
  } finally {
    await net.destroy();
  }
  if (json) {
    for (const f of figures) console.log(JSON.stringify({ bench: 'dht', ...f, value: Math.round(f.value * 100) / 100 }));
  } else {
    console.log(`dht bench: ${NODES} nodes on 127.0.0.1, ${OPS} puts and ${OPS} gets of ${VALUE_BYTES} B values per mode and kind, ${CONTENT_MIB} MiB streamed`);
    for (const r of rows) console.log(r);
  }
}

await main();
