/**
 * `npm run bench:zk`: what Groth16 costs a node and what the ZK pool buys on this machine.
 * Proofs/s of each of the four circuits on this thread (Groth16Prover) and through the ZkPool;
 * verifications/s with the lean verifier on this thread alone vs the pool at full width, with the
 * one-call latency of each; snarkjs's own groth16.verify next to ours for reference; and the PING
 * latency of a real node while its ZK pool is saturated (bench/zk-ping.ts). Thread and pool runs
 * alternate, so a busy host slows both alike. Every phase stops at `--seconds N` (default 5) or
 * `--count N` operations (default 1,000), whichever comes first. Prints a table, or one JSON
 * object per figure with --json.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as snarkjs from 'snarkjs';
import {
  CIRCUIT_NAMES, type CircuitName, type CircuitSignals, DEFAULT_ZK_NICE_INCREMENT, decodeProof, Groth16Prover, Groth16Verifier,
  loadVerificationKey, pointsToSnarkjs, ZkPool, type ZkProof,
} from '../src/zk/index.js';
// Not in the zk index: only the tests and this bench hand snarkjs the thread's curve themselves.
import { singleThreadCurve } from '../src/zk/curve.js';
import { validSignals } from '../test/helpers/zk.js';
import { alternate, ascending, drive, num, percentile, phaseBounds, type PhaseBounds, Report, round } from './common.js';
import { benchPing } from './zk-ping.js';

const json = process.argv.includes('--json');
const DEFAULTS = { seconds: 5, count: 1_000 };
/** Thread and pool measurements of a phase alternate this many times; the figures are the totals. */
const ROUNDS = 3;
/** Proofs kept per circuit for the verification phases: re-randomised proofs of one statement each. */
const KEPT_PROOFS = 16;
/** Phases in a run (8 prove, 12 verify, 2 snarkjs, 2 PING): with a margin for set-up, the watchdog's limit. */
const PHASES = 24;
const MAX_PHASE_MS = 10 * 60_000;

type Proofs = Map<CircuitName, ZkProof[]>;

/** The bounds of one of the ROUNDS alternating rounds of a phase. */
const perRound = (b: PhaseBounds): PhaseBounds => ({ count: Math.ceil(b.count / ROUNDS), ms: b.ms / ROUNDS });
/** Bounds by count only: warm-ups. */
const exactly = (count: number): PhaseBounds => ({ count, ms: Infinity });
const ms = (sorted: readonly number[]): string => `${num(percentile(sorted, 50), 2, 6)} / ${num(percentile(sorted, 99), 2, 6)}`;

function keep(proofs: Proofs, p: ZkProof): void {
  const list = proofs.get(p.circuit) ?? [];
  if (list.length < KEPT_PROOFS) list.push(p);
  proofs.set(p.circuit, list);
}

/** Proofs/s per circuit, on this thread and through the pool (one proof per thread in flight). Returns proofs to verify. */
async function benchProve(report: Report, bounds: PhaseBounds, pool: ZkPool, signals: CircuitSignals): Promise<Proofs> {
  const prover = new Groth16Prover();
  const proofs: Proofs = new Map();
  report.line(`Groth16 prove, warm (thread: Groth16Prover on this thread; pool: ZkPool.prove, ${pool.threads} threads, one proof each in flight; ${ROUNDS} alternating rounds)`);
  report.line('  circuit          thread/s  ms/proof    pool/s  pool/thread  pool CPU');
  for (const circuit of CIRCUIT_NAMES) {
    const onThread = async (): Promise<void> => keep(proofs, await prover.prove(circuit, signals[circuit]));
    const inPool = async (): Promise<void> => keep(proofs, await pool.prove(circuit, signals[circuit]));
    // Warm-up: the first proof of a circuit on a thread compiles its witness wasm (≈ 0.5 s).
    await drive(1, exactly(1), onThread);
    await drive(pool.threads, exactly(pool.threads), inPool);
    const [thread, pooled] = await alternate(
      ROUNDS,
      () => drive(1, perRound(bounds), onThread),
      () => drive(pool.threads, perRound(bounds), inPool),
    );
    const ratio = pooled.perSecond / thread.perSecond;
    report.add('groth16_prove_s', thread.perSecond, 'proofs/s', { circuit, mode: 'thread', cpu: round(thread.cpu) });
    report.add('groth16_prove_s', pooled.perSecond, 'proofs/s', { circuit, mode: 'pool', threads: pool.threads, cpu: round(pooled.cpu) });
    report.add('groth16_prove_pool_ratio', ratio, 'x', { circuit });
    report.line(`  ${circuit.padEnd(15)} ${num(thread.perSecond, 2)} ${num(1000 / thread.perSecond, 0, 9)} ${num(pooled.perSecond, 2, 9)} ${num(ratio, 2, 10)} x ${num(pooled.cpu, 2, 9)}`);
  }
  return proofs;
}

/**
 * Verifications/s per circuit with the lean verifier on this thread vs through the pool (two per
 * thread in flight: one runs, one waits), then one at a time through the pool for its latency.
 */
async function benchVerify(report: Report, bounds: PhaseBounds, pool: ZkPool, proofs: Proofs): Promise<void> {
  report.line('');
  report.line(`Groth16 verify, lean verifier (thread: this thread alone; pool: ZkPool.check, ${pool.threads} threads, ${pool.threads * 2} in flight; ${ROUNDS} alternating rounds)`);
  report.line('  circuit          thread/s    pool/s  pool/thread  pool CPU   thread p50 / p99 ms   pool p50 / p99 ms*');
  for (const circuit of CIRCUIT_NAMES) {
    const list = proofs.get(circuit) ?? [];
    const verifier = await Groth16Verifier.forCircuit(circuit);
    const fail = (): never => { throw new Error(`a ${circuit} bench proof did not verify`); };
    const onThread = async (i: number): Promise<void> => {
      const p = list[i % list.length]!;
      if (verifier.check(p.publicSignals, p.proof) !== 'valid') fail();
    };
    const inPool = async (i: number): Promise<void> => {
      const p = list[i % list.length]!;
      if ((await pool.check(circuit, p.publicSignals, p.proof)) !== 'valid') fail();
    };
    await drive(1, exactly(2), onThread); // warm-up: JIT, and the prepared key in every worker
    await drive(pool.threads * 2, exactly(pool.threads * 2), inPool);
    const threadMs: number[] = [];
    const [single, pooled] = await alternate(
      ROUNDS,
      () => drive(1, perRound(bounds), onThread, threadMs),
      () => drive(pool.threads * 2, perRound(bounds), inPool),
    );
    const poolMs: number[] = [];
    await drive(1, bounds, inPool, poolMs);
    const [t, p] = [ascending(threadMs), ascending(poolMs)];
    const ratio = pooled.perSecond / single.perSecond;
    report.add('groth16_verify_single_s', single.perSecond, 'verif/s', { circuit, cpu: round(single.cpu) });
    report.add('groth16_verify_pool_s', pooled.perSecond, 'verif/s', { circuit, threads: pool.threads, cpu: round(pooled.cpu) });
    report.add('groth16_verify_pool_ratio', ratio, 'x', { circuit });
    report.add('groth16_verify_p50_ms', percentile(t, 50), 'ms', { circuit, mode: 'thread', samples: t.length });
    report.add('groth16_verify_p99_ms', percentile(t, 99), 'ms', { circuit, mode: 'thread', samples: t.length });
    report.add('groth16_verify_p50_ms', percentile(p, 50), 'ms', { circuit, mode: 'pool', samples: p.length });
    report.add('groth16_verify_p99_ms', percentile(p, 99), 'ms', { circuit, mode: 'pool', samples: p.length });
    report.line(`  ${circuit.padEnd(15)} ${num(single.perSecond, 0, 9)} ${num(pooled.perSecond, 0, 9)} ${num(ratio, 2, 10)} x ${num(pooled.cpu, 2, 9)}   ${ms(t)}       ${ms(p)}`);
  }
  report.line('  * one verification at a time through the pool: the worker\'s run and the hand-off both ways');
}

/** snarkjs.groth16.verify vs the lean verifier, both on this thread's single-threaded curve, for storage_access. */
async function benchSnarkjs(report: Report, bounds: PhaseBounds, list: readonly ZkProof[]): Promise<void> {
  const circuit: CircuitName = 'storage_access';
  const vk = loadVerificationKey(circuit);
  const verifier = await Groth16Verifier.forCircuit(circuit);
  // What a snarkjs caller holds: decimal signals and the proof object; converted outside the timing.
  const inputs = list.map((p) => ({ signals: p.publicSignals.map(String), proof: pointsToSnarkjs(decodeProof(p.proof)!) }));
  await singleThreadCurve(); // without it snarkjs would build a multi-threaded curve (and its workers)
  const ours = async (i: number): Promise<void> => {
    const p = list[i % list.length]!;
    if (!verifier.verify(p.publicSignals, p.proof)) throw new Error('the lean verifier refused a bench proof');
  };
  const theirs = async (i: number): Promise<void> => {
    const x = inputs[i % inputs.length]!;
    if (!(await snarkjs.groth16.verify(vk, x.signals, x.proof))) throw new Error('snarkjs refused a bench proof');
  };
  await drive(1, exactly(2), ours);
  await drive(1, exactly(2), theirs);
  const [lean, reference] = await alternate(ROUNDS, () => drive(1, perRound(bounds), ours), () => drive(1, perRound(bounds), theirs));
  const ratio = lean.perSecond / reference.perSecond;
  report.add('snarkjs_verify_single_s', reference.perSecond, 'verif/s', { circuit });
  report.add('groth16_verify_snarkjs_ratio', ratio, 'x', { circuit });
  report.line('');
  report.line(`Reference: snarkjs.groth16.verify vs the lean verifier (${circuit}, this thread, the same single-threaded curve; ${ROUNDS} alternating rounds)`);
  report.line(`  lean verifier        ${num(lean.perSecond, 0)} verif/s  (${num(1000 / lean.perSecond, 2, 5)} ms each; stricter: canonical coordinates, G2 subgroup check)`);
  report.line(`  snarkjs 0.7.6        ${num(reference.perSecond, 0)} verif/s  (${num(1000 / reference.perSecond, 2, 5)} ms each)`);
  report.line(`  lean / snarkjs       ${num(ratio, 2)} x`);
}

async function main(): Promise<void> {
  const bounds = phaseBounds(process.argv.slice(2), DEFAULTS);
  if (bounds.ms > MAX_PHASE_MS) throw new RangeError(`--seconds must be at most ${MAX_PHASE_MS / 1000}`);
  const deadline = PHASES * 1.5 * bounds.ms + 3 * 60_000;
  const watchdog = setTimeout(() => { console.error('zk bench: deadline passed'); process.exit(1); }, deadline);
  watchdog.unref();
  const report = new Report('zk', json);
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  report.line(`zk bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}, load average ${load}; ` +
    `phases of at most ${bounds.ms / 1000} s or ${bounds.count} operations; pool workers at nice +${DEFAULT_ZK_NICE_INCREMENT}`);
  report.line('');
  const pool = new ZkPool(); // full width: min(ZK_MAX_THREADS, cores)
  let proofs: Proofs;
  try {
    proofs = await benchProve(report, bounds, pool, validSignals());
    await benchVerify(report, bounds, pool, proofs);
  } finally {
    await pool.close();
  }
  await benchSnarkjs(report, bounds, proofs.get('storage_access') ?? []);
  await benchPing(report, bounds, [...proofs.values()].flat());
  report.print();
}

await main();
