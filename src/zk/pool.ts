/**
 * The ZK worker pool (Piscina, dist/workers/zk.js): Groth16 verification and proving off the
 * coordinator. At most 2 threads (the machines have 2 cores; more buys nothing for circuits this
 * small), a bounded queue (BUSY when full), cheap checks on the calling thread before any task is
 * queued, and a per-task timeout through an AbortSignal as a backstop: a timed-out verification
 * is `false`. Separate from the CryptoPool for now (docs/zk.md says how they could merge).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { DhtError, second } from '../util/index.js';
import { packageRoot } from './artifacts.js';
import { type CircuitName, isCircuitName, PUBLIC_SIGNALS } from './circuits.js';
import { FIELD_MODULUS } from './field.js';
import { PROOF_BYTES } from './proof.js';
import type { CircuitSignals, ZkProof } from './prover.js';
import type { VerifyOutcome } from './verifier.js';

/** Most threads a ZkPool may have. */
export const ZK_MAX_THREADS = 2;
/** Default tasks waiting at most before BUSY (64 verifications ≈ 0.3 s of work for 2 threads). */
export const DEFAULT_ZK_MAX_QUEUE = 64;
/** Default bound on one verification, queue wait included; a verification takes about 9 ms. */
export const DEFAULT_ZK_VERIFY_TIMEOUT = 10 * second;
/** Default bound on one proof, queue wait included; the largest circuit (identity) takes about 1 s. */
export const DEFAULT_ZK_PROVE_TIMEOUT = 60 * second;
/** Worker nice increment, as the CryptoPool's: the coordinator wins the core when both want it. */
export const DEFAULT_ZK_NICE_INCREMENT = 19;

/** Options of a ZkPool. */
export interface ZkPoolInit {
  /** Worker threads, 1..2. Default: min(2, available cores). */
  threads?: number;
  /** Waiting tasks at most before BUSY. Default 64. */
  maxQueue?: number;
  /** Milliseconds before a verification counts as failed. Default 10 s. */
  verifyTimeout?: number;
  /** Milliseconds before a proof is abandoned. Default 60 s. */
  proveTimeout?: number;
  /** Nice increment of the workers, 0..19. Default 19. */
  niceIncrement?: number;
  /**
   * Start the threads on the first task rather than now. A node that never sees a ZK value then
   * never pays for them (each loads snarkjs: 60-90 MB). Default false.
   */
  lazy?: boolean;
}

/** Outcomes counted by the pool: the verifier's, and the pool's own. */
export type ZkPoolOutcome = VerifyOutcome | 'unknown_circuit' | 'timeout' | 'task_error';

/** Pool figures. */
export interface ZkPoolStats {
  /** Threads running: 0 for a lazy pool before its first task. */
  threads: number;
  maxQueue: number;
  /** Tasks waiting for a thread now. */
  queueSize: number;
  /** Most tasks ever waiting for a thread (≤ maxQueue). */
  peakQueueSize: number;
  busyRejections: number;
  /** Verifications by outcome; the checks made before queueing count here too. */
  verifications: Record<ZkPoolOutcome, number>;
  /** Verifications answered on the calling thread, without a task. */
  rejectedBeforeQueue: number;
  proofs: number;
  /** Worker threads ended (a timed-out task ends its thread; close() ends all). */
  workersEnded: number;
  /** Uncaught worker errors outside any task (the worker is replaced). */
  workerErrors: number;
  /** Task run time in the workers, ms. */
  runTimeP50: number;
  runTimeP99: number;
}

const OUTCOMES: readonly ZkPoolOutcome[] = [
  'valid', 'bad_length', 'bad_public_count', 'bad_public_value', 'non_canonical', 'infinity', 'not_on_curve',
  'not_in_subgroup', 'pairing_failed', 'error', 'unknown_circuit', 'timeout', 'task_error',
];
const MAX_SIGNAL_DIGITS = 78;

/** Groth16 in worker threads. Create with `new ZkPool()`, end with `close()`. */
export class ZkPool {
  readonly threads: number;
  readonly maxQueue: number;
  readonly verifyTimeout: number;
  readonly proveTimeout: number;
  readonly #options: ConstructorParameters<typeof Piscina>[0];
  #piscina: Piscina | null = null;
  #closed = false;
  /** Tasks submitted and not settled (running + waiting): the queue bound is enforced on this. */
  #inFlight = 0;
  readonly #counts = new Map<ZkPoolOutcome, number>(OUTCOMES.map((o) => [o, 0]));
  readonly #stats = { peakQueueSize: 0, busyRejections: 0, rejectedBeforeQueue: 0, proofs: 0, workersEnded: 0, workerErrors: 0 };

  constructor(init: ZkPoolInit = {}) {
    this.threads = init.threads ?? Math.min(ZK_MAX_THREADS, availableParallelism());
    this.maxQueue = init.maxQueue ?? DEFAULT_ZK_MAX_QUEUE;
    this.verifyTimeout = init.verifyTimeout ?? DEFAULT_ZK_VERIFY_TIMEOUT;
    this.proveTimeout = init.proveTimeout ?? DEFAULT_ZK_PROVE_TIMEOUT;
    const nice = init.niceIncrement ?? DEFAULT_ZK_NICE_INCREMENT;
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > ZK_MAX_THREADS) {
      throw new RangeError(`options.threads must be an integer in 1..${ZK_MAX_THREADS}`);
    }
    positiveInteger(this.maxQueue, 'maxQueue');
    positiveInteger(this.verifyTimeout, 'verifyTimeout');
    positiveInteger(this.proveTimeout, 'proveTimeout');
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError('options.niceIncrement must be an integer in 0..19');
    this.#options = {
      filename: workerFile(), minThreads: this.threads, maxThreads: this.threads, maxQueue: this.maxQueue,
      idleTimeout: Number.MAX_SAFE_INTEGER, niceIncrement: nice,
    };
    if (init.lazy !== true) this.#start();
  }

  /** True once the threads were started (at construction, or at the first task of a lazy pool). */
  get started(): boolean {
    return this.#piscina !== null;
  }

  #start(): Piscina {
    if (this.#piscina !== null) return this.#piscina;
    const piscina = new Piscina(this.#options);
    // Piscina re-emits a worker's uncaught error on the pool when no task was running: without a
    // listener that would throw on the coordinator. Count it; Piscina replaces the worker.
    piscina.on('error', () => { this.#stats.workerErrors++; });
    piscina.on('workerDestroy', () => { this.#stats.workersEnded++; });
    this.#piscina = piscina;
    return piscina;
  }

  /**
   * True only when `proof` (256 bytes) proves `publicSignals` (bigints, or decimal strings) for
   * `circuit`. Malformed input is answered here without a task; a task that fails or times out
   * is false. Rejects only with BUSY (queue full) or DESTROYED (pool closed).
   */
  async verify(circuit: CircuitName, publicSignals: readonly (bigint | string)[], proof: Uint8Array): Promise<boolean> {
    return (await this.check(circuit, publicSignals, proof)) === 'valid';
  }

  /** The outcome of one verification (see `verify`); each is counted in `stats().verifications`. */
  async check(circuit: CircuitName, publicSignals: readonly (bigint | string)[], proof: Uint8Array): Promise<ZkPoolOutcome> {
    if (this.#closed) throw DhtError.destroyed();
    const early = precheck(circuit, publicSignals, proof);
    if (early !== null) {
      this.#stats.rejectedBeforeQueue++;
      return this.#count(early);
    }
    try {
      const outcome = await this.#run<VerifyOutcome>('zkCheck', { circuit, publicSignals: [...publicSignals], proof }, this.verifyTimeout);
      return this.#count(outcome);
    } catch (err) {
      if (err instanceof DhtError) throw err; // BUSY or DESTROYED: the caller decides, nothing was verified
      return this.#count(isAbort(err) ? 'timeout' : 'task_error');
    }
  }

  /**
   * A proof for `circuit` from its signals, made in a worker. Rejects with a RangeError when the
   * signals do not satisfy the circuit, DhtError BUSY / DESTROYED / TIMEOUT otherwise.
   */
  async prove<C extends CircuitName>(circuit: C, signals: CircuitSignals[C]): Promise<ZkProof> {
    if (!isCircuitName(circuit)) throw new TypeError('circuit must be one of CIRCUIT_NAMES');
    try {
      const r = await this.#run<{ proof: Uint8Array; publicSignals: bigint[] }>('zkProve', { circuit, signals }, this.proveTimeout);
      this.#stats.proofs++;
      return { circuit, proof: r.proof, publicSignals: r.publicSignals };
    } catch (err) {
      if (isAbort(err)) throw DhtError.timeout(`${circuit} proof`);
      throw err;
    }
  }

  /** Figures for stats and tests. */
  stats(): ZkPoolStats {
    const p = this.#piscina;
    return {
      threads: p?.threads.length ?? 0, maxQueue: this.maxQueue, queueSize: Math.max(0, this.#inFlight - this.threads), ...this.#stats,
      verifications: Object.fromEntries(this.#counts) as Record<ZkPoolOutcome, number>,
      runTimeP50: p?.histogram.runTime.p50 ?? 0, runTimeP99: p?.histogram.runTime.p99 ?? 0,
    };
  }

  /**
   * Ends every thread at once; running and queued tasks reject with DESTROYED. Workers hold no
   * curve threads, so the process can exit right after. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#piscina?.destroy();
  }

  #count(outcome: ZkPoolOutcome): ZkPoolOutcome {
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1);
    return outcome;
  }

  async #run<R>(name: string, task: object, timeout: number): Promise<R> {
    if (this.#closed) throw DhtError.destroyed();
    // Piscina 5.3 does not apply maxQueue to tasks that carry an AbortSignal while its main queue
    // is empty (they wait in a side queue), so the bound is kept here, on tasks in flight.
    if (this.#inFlight >= this.threads + this.maxQueue) {
      this.#stats.busyRejections++;
      throw new DhtError('BUSY', 'zk pool queue is full; try later');
    }
    this.#inFlight++;
    this.#stats.peakQueueSize = Math.max(this.#stats.peakQueueSize, this.#inFlight - this.threads);
    try {
      return (await this.#start().run(task, { name, signal: AbortSignal.timeout(timeout) })) as R;
    } catch (err) {
      if (this.#closed) throw DhtError.destroyed(); // cut off by close()
      throw err;
    } finally {
      this.#inFlight--;
    }
  }
}

/** The outcome of the checks made on the calling thread, or null when the input may go to a worker. */
function precheck(circuit: unknown, signals: unknown, proof: unknown): ZkPoolOutcome | null {
  if (!isCircuitName(circuit)) return 'unknown_circuit';
  if (!(proof instanceof Uint8Array) || proof.byteLength !== PROOF_BYTES) return 'bad_length';
  if (!Array.isArray(signals) || signals.length !== PUBLIC_SIGNALS[circuit].length) return 'bad_public_count';
  for (const s of signals as unknown[]) {
    const ok = typeof s === 'bigint' ? s >= 0n && s < FIELD_MODULUS
      : typeof s === 'string' && s.length <= MAX_SIGNAL_DIGITS && /^(0|[1-9][0-9]*)$/.test(s) && BigInt(s) < FIELD_MODULUS;
    if (!ok) return 'bad_public_value';
  }
  return null;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** dist/workers/zk.js of this package. */
function workerFile(): string {
  const file = join(packageRoot(), 'dist', 'workers', 'zk.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}

function positiveInteger(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer`);
}
