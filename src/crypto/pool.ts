/**
 * The crypto worker pool (Piscina): the coordinator's only way to run ML-DSA, and its way to
 * hash anything above `hashThreshold`. The queue is bounded (`maxQueue` tasks): when it is full
 * the caller gets a BUSY DhtError at once (the wire answers TRY_LATER) and nothing grows without
 * bound. Signature checks are batched: verify() calls made in the same event-loop turn share one
 * task of up to `batchSize` items.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DhtError, KiB } from '../util/index.js';
import { blake3, keyedBlake3 } from './blake3.js';
import type { NodeRecord } from './record.js';
import type { InitiateResult, InitiateTask, RespondResult, RespondTask } from './handshake.js';
import { KEM_SEED_BYTES, type KemStanza } from './kemwrap.js';
import { MLKEM768_PUBLIC_KEY_BYTES } from './mldsa.js';

/** Default tasks waiting at most (each a batch of signatures or one large hash). */
export const DEFAULT_MAX_QUEUE = 64;
/** Default signatures per verification task (bench: `npm run bench:crypto`, sweep). */
export const DEFAULT_VERIFY_BATCH = 32;
/**
 * Inputs at most this long are hashed inline on the coordinator. Measured (bench:crypto): a pool
 * call costs the main thread 40-70 µs whatever the size, inline BLAKE3 about 1.25 µs per KiB, so
 * below ~32 KiB hashing inline costs the coordinator less than dispatching the task.
 */
export const DEFAULT_HASH_THRESHOLD = 32 * KiB;
/**
 * Workers run at this much lower CPU priority (Linux nice), so the coordinator wins the core when
 * both want it: measured PING p99 under a saturated pool 1.8-2.8 ms with it, 5.3-6.7 ms without,
 * at the same throughput. Needs @napi-rs/nice (a Piscina optional dependency); without it the
 * workers run at normal priority.
 */
export const DEFAULT_NICE_INCREMENT = 19;

export interface CryptoPoolInit {
  /** Worker threads. Default: available cores. */
  threads?: number;
  /** Waiting tasks at most before BUSY. Default 64. */
  maxQueue?: number;
  /** Signatures per verification task at most. Default 32. */
  batchSize?: number;
  /** Largest input hashed on the calling thread. Default 32 KiB. */
  hashThreshold?: number;
  /** Nice increment of the worker threads (0 = same priority as the coordinator). Default 19. */
  niceIncrement?: number;
}

/** A signature to check. */
export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Pool figures for the extended stats. */
export interface PoolStats {
  threads: number;
  maxQueue: number;
  queueSize: number;
  peakQueueSize: number;
  /** 0..1: share of time the workers were busy since start. */
  utilization: number;
  completed: number;
  busyRejections: number;
  verifyBatches: number;
  verifications: number;
  hashesInline: number;
  hashesInPool: number;
  /** Task run time in the workers, ms. */
  runTimeP50: number;
  runTimeP99: number;
}

interface PendingCheck extends SignatureCheck { resolve(ok: boolean): void; reject(err: Error): void }

/** The node's crypto pool. Create with `new CryptoPool()`, end with `close()`. */
export class CryptoPool {
  readonly threads: number;
  readonly maxQueue: number;
  readonly batchSize: number;
  readonly hashThreshold: number;
  readonly niceIncrement: number;
  readonly #piscina: Piscina;
  #batch: PendingCheck[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #stats = { peakQueueSize: 0, busyRejections: 0, verifyBatches: 0, verifications: 0, hashesInline: 0, hashesInPool: 0 };

  constructor(init: CryptoPoolInit = {}) {
    this.threads = init.threads ?? availableParallelism();
    this.maxQueue = init.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.batchSize = init.batchSize ?? DEFAULT_VERIFY_BATCH;
    this.hashThreshold = init.hashThreshold ?? DEFAULT_HASH_THRESHOLD;
    this.niceIncrement = init.niceIncrement ?? DEFAULT_NICE_INCREMENT;
    if (!Number.isInteger(this.niceIncrement) || this.niceIncrement < 0 || this.niceIncrement > 19) {
      throw new RangeError('options.niceIncrement must be an integer in 0..19');
    }
    positiveInteger(this.threads, 'threads');
    positiveInteger(this.maxQueue, 'maxQueue');
    positiveInteger(this.batchSize, 'batchSize');
    if (!Number.isInteger(this.hashThreshold) || this.hashThreshold < 0) throw new RangeError('options.hashThreshold must be a non-negative integer');
    this.#piscina = new Piscina({
      filename: workerFile(), minThreads: this.threads, maxThreads: this.threads, maxQueue: this.maxQueue,
      idleTimeout: Number.MAX_SAFE_INTEGER, niceIncrement: this.niceIncrement,
    });
  }

  /**
   * BLAKE3 of `data`: inline up to hashThreshold, else in a worker. Above the threshold a view
   * that owns its whole ArrayBuffer is *transferred* to the worker and back (no copy): `data` is
   * detached afterwards and the result's `data` holds the same bytes. Other views are copied.
   */
  async hash(data: Uint8Array): Promise<{ digest: Uint8Array; data: Uint8Array }> {
    if (data.byteLength <= this.hashThreshold) {
      this.#stats.hashesInline++;
      return { digest: blake3(data), data };
    }
    // Only a view that owns a whole (non-shared) ArrayBuffer can be transferred; others are copied.
    const owned = data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
      ? data : data.slice();
    const result = await this.#run<{ digest: Uint8Array; data: Uint8Array }>('hash', { data: owned }, [owned.buffer as ArrayBuffer]);
    this.#stats.hashesInPool++;
    return result;
  }

  /**
   * Keyed BLAKE3 of `data` under a 32-byte `key` (storage audits): inline up to hashThreshold,
   * else in a worker on a copy (the caller keeps `data`).
   */
  async keyedHash(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    if (data.byteLength <= this.hashThreshold) {
      this.#stats.hashesInline++;
      return keyedBlake3(key, data);
    }
    const copy = data.slice();
    const digest = await this.#run<Uint8Array>('keyedHash', { key: key.slice(), data: copy }, [copy.buffer as ArrayBuffer]);
    this.#stats.hashesInPool++;
    return digest;
  }

  /** Verifies one ML-DSA-65 signature, batched with others made in the same turn. */
  verify(check: SignatureCheck): Promise<boolean> {
    if (this.#closed) return Promise.reject(DhtError.destroyed());
    return new Promise((resolve, reject) => {
      this.#batch.push({ ...check, resolve, reject });
      if (this.#batch.length >= this.batchSize) this.#flush();
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Verifies many signatures in one task; `true`/`false` per item, in order. */
  async verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    const items = checks.map((c) => ({ publicKey: c.publicKey, message: c.message, signature: c.signature }));
    const bits = await this.#run<Uint8Array>('verifyBatch', { items });
    this.#stats.verifyBatches++;
    this.#stats.verifications += checks.length;
    return Array.from(bits, (b) => b === 1);
  }

  /** Signs `message` with an ML-DSA-65 secret key. */
  sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    return this.#run<Uint8Array>('sign', { secretKey, message });
  }

  /**
   * New ML-DSA-65 and ML-KEM-768 key pairs, generated in a worker. Deterministic from a 96-byte
   * `seed` (32 B for ML-DSA, 64 B for ML-KEM); the node draws it from its random source.
   */
  keygen(seed?: Uint8Array): Promise<{ dsa: { publicKey: Uint8Array; secretKey: Uint8Array }; kem: { publicKey: Uint8Array; secretKey: Uint8Array } }> {
    return this.#run('keygen', seed === undefined ? {} : { seed });
  }

  /** Decodes and verifies a node record in a worker; null when malformed or forged. */
  async verifyRecord(bytes: Uint8Array): Promise<NodeRecord | null> {
    // The worker decoded it already: the coordinator takes its result rather than decoding again.
    const r = await this.#run<{ ok: true; record: NodeRecord } | { ok: false }>('verifyRecord', { bytes });
    return r.ok ? r.record : null;
  }

  /** The initiator's half of a session handshake: verify, encapsulate, sign (one task). */
  handshakeInitiate(task: InitiateTask): Promise<InitiateResult> {
    return this.#run('handshakeInitiate', task);
  }

  /** The responder's half of a session handshake: verify twice, decapsulate, sign (one task). */
  handshakeRespond(task: RespondTask): Promise<RespondResult> {
    return this.#run('handshakeRespond', task);
  }

  /**
   * `key` (32 bytes) wrapped to each ML-KEM-768 public key, in a worker (~0.7 ms per key). `seeds`
   * (32 bytes per key, from the node's random source) make it reproducible. RangeError for a key of
   * the wrong length, before any task.
   */
  kemWrap(publicKeys: readonly Uint8Array[], key: Uint8Array, ad: Uint8Array, seeds: readonly Uint8Array[]): Promise<KemStanza[]> {
    publicKeys.forEach((pk, i) => {
      if (!(pk instanceof Uint8Array) || pk.byteLength !== MLKEM768_PUBLIC_KEY_BYTES) throw new RangeError(`reader key ${i} must be ${MLKEM768_PUBLIC_KEY_BYTES} bytes of ML-KEM-768`);
    });
    if (seeds.length !== publicKeys.length || seeds.some((s) => s.byteLength !== KEM_SEED_BYTES)) throw new RangeError(`seeds must be ${KEM_SEED_BYTES} bytes, one per public key`);
    return this.#run('kemWrapKey', { publicKeys: [...publicKeys], key, ad, seeds: [...seeds] });
  }

  /** The key among `stanzas` wrapped to `secretKey`'s ML-KEM-768 public key, or null; tried in a worker. */
  kemUnwrap(stanzas: readonly KemStanza[], secretKey: Uint8Array, ad: Uint8Array): Promise<Uint8Array | null> {
    return this.#run('kemUnwrapKey', { stanzas: [...stanzas], secretKey, ad });
  }

  /** Figures for the extended stats. */
  stats(): PoolStats {
    const p = this.#piscina;
    const run = p.histogram.runTime;
    return {
      threads: p.threads.length, maxQueue: this.maxQueue, queueSize: p.queueSize, utilization: p.utilization,
      completed: p.completed, runTimeP50: run.p50, runTimeP99: run.p99, ...this.#stats,
    };
  }

  /**
   * Ends every thread at once: running and queued tasks, and batched checks, reject with
   * DESTROYED (nothing is left half-done that a caller could mistake for a result). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#batch.splice(0)) c.reject(DhtError.destroyed());
    await this.#piscina.destroy();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#batch.splice(0, this.batchSize);
    if (this.#batch.length > 0) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    if (batch.length === 0) return;
    this.verifyBatch(batch).then(
      (results) => batch.forEach((c, i) => c.resolve(results[i] ?? false)),
      (err: Error) => batch.forEach((c) => c.reject(err)),
    );
  }

  async #run<R>(name: string, task: object, transferList?: ArrayBuffer[]): Promise<R> {
    if (this.#closed) throw DhtError.destroyed();
    try {
      const pending = this.#piscina.run(task, { name, transferList });
      this.#stats.peakQueueSize = Math.max(this.#stats.peakQueueSize, this.#piscina.queueSize);
      return (await pending) as R;
    } catch (err) {
      if (this.#closed) throw DhtError.destroyed(); // the task was cut off by close()
      if (err instanceof Error && err.message === 'Task queue is at limit') {
        this.#stats.busyRejections++;
        throw new DhtError('BUSY', 'crypto pool queue is full; try later', { cause: err });
      }
      throw err;
    }
  }
}

/** dist/workers/crypto.js of this package, found from this file in src/ or dist/src/. */
function workerFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'zhtp-dht') {
      const file = join(dir, 'dist', 'workers', 'crypto.js');
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
      return file;
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the zhtp-dht package root to load the crypto workers');
}

function positiveInteger(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer`);
}
