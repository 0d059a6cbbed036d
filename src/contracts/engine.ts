/**
 * The coordinator's contract engine: deploys modules (validated and metered in the meter pool),
 * creates instances, and runs calls and queries in the execution pool with per-call gas, a
 * bounded queue (BUSY when full), batching, a wall-clock kill, and atomic version-checked
 * commits of the write sets to the contract environment. Nothing here runs contract code or
 * binaryen: the coordinator only validates requests, schedules and commits.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { DhtError } from '../util/index.js';
import { InvalidContractError } from './errors.js';
import type { BatchResult } from './execute.js';
import { genesisStateHash, instanceIdOf } from './ids.js';
import { CALLER_BYTES, DEFAULT_CALL_TIMEOUT, DEFAULT_GAS_LIMIT, MAX_CODE_BYTES, MAX_GAS_LIMIT, MAX_INPUT_BYTES } from './limits.js';
import { MeterPool, type MeterPoolInit, workerFile } from './pools.js';
import type { CallRequest, CallTask, Receipt } from './receipt.js';
import type { CodeRecord, InstanceMeta } from './records.js';
import { CallScheduler, type SchedulerStats } from './scheduler.js';
import type { UpdateCheck, UpdateVerdict } from './audit.js';
import { type ReceiptRetention, type ReplicaOutcome, type ReplicatedCommit, ReplicaStore, type SnapshotPage, type StoredReceipt } from './replica.js';

/** Default calls waiting at most before BUSY. */
export const DEFAULT_CONTRACT_QUEUE = 1024;
/** Default calls per task (the notes measured 4-5x the calls/s of one call per task at 100). */
export const DEFAULT_CONTRACT_BATCH = 64;
/** JS heap of a contract thread, MiB (wasm memory is not part of it: the meter caps that). */
const WORKER_HEAP_MB = 64;
/** Stack of a contract thread, MiB: room for MAX_CALL_DEPTH frames of MAX_LOCALS locals. */
const WORKER_STACK_MB = 32;

/** Options of a ContractEngine. */
export interface ContractEngineInit {
  /** Folder of the contract LMDB environment (code, instances, state); created if missing. */
  path: string;
  /** Execution threads. Default min(2, cores). */
  threads?: number;
  /** Calls waiting at most before BUSY. Default 1024. */
  maxQueue?: number;
  /** Calls per task at most. Default 64. */
  batchSize?: number;
  /** Wall-clock ms one call may run before its worker is killed. Default 2 s. */
  callTimeout?: number;
  /** Nice increment of the worker threads, 0..19. Default 19. */
  niceIncrement?: number;
  /** Options of the meter pool (deploys). */
  meter?: MeterPoolInit;
  /** Receipts kept per instance and their age at most (replica.ts defaults: 4096, one week). */
  receipts?: Partial<ReceiptRetention>;
  /**
   * Start the execution threads with the first call rather than now, so a node that never runs a
   * contract never pays for them (the meter thread always starts with the first deploy). Default false.
   */
  lazy?: boolean;
}

/** What a deploy stored. */
export interface DeployedCode {
  /** BLAKE3 of the original module: its content address. */
  codeHash: Uint8Array;
  methods: string[];
  memory: { initial: number; maximum: number };
  originalBytes: number;
  meteredBytes: number;
  meterVersion: number;
}

/** Engine figures. */
export interface ContractEngineStats extends SchedulerStats {
  deploys: number;
  deployRefusals: number;
  meterThreadsRecycled: number;
  /** Execution threads running: 0 for a lazy engine before its first call. */
  threads: number;
  /** Worker threads ended (killed calls end theirs). */
  workersEnded: number;
  /** Uncaught worker errors outside any task (the worker is replaced). */
  workerErrors: number;
}

/** Contracts on this node. Create with `ContractEngine.open`, end with `close()`. */
export class ContractEngine {
  readonly threads: number;
  readonly #store: ReplicaStore;
  readonly #callTimeout: number;
  readonly #meter: MeterPool;
  readonly #poolOptions: ConstructorParameters<typeof Piscina>[0];
  #pool: Piscina | null = null;
  readonly #scheduler: CallScheduler;
  readonly #counts = { deploys: 0, deployRefusals: 0, workersEnded: 0, workerErrors: 0 };
  #closing: Promise<void> | null = null;

  private constructor(init: ContractEngineInit, store: ReplicaStore) {
    this.threads = init.threads ?? Math.min(2, availableParallelism());
    const batchSize = init.batchSize ?? DEFAULT_CONTRACT_BATCH;
    const maxQueue = init.maxQueue ?? DEFAULT_CONTRACT_QUEUE;
    const callTimeout = init.callTimeout ?? DEFAULT_CALL_TIMEOUT;
    const nice = init.niceIncrement ?? 19;
    positiveInteger(this.threads, 'threads');
    positiveInteger(batchSize, 'batchSize');
    positiveInteger(maxQueue, 'maxQueue');
    positiveInteger(callTimeout, 'callTimeout');
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError('options.niceIncrement must be an integer in 0..19');
    this.#store = store;
    this.#callTimeout = callTimeout;
    store.retention = { ...store.retention, ...init.receipts };
    this.#meter = new MeterPool({ niceIncrement: nice, ...init.meter });
    this.#poolOptions = {
      filename: workerFile('contract'), minThreads: this.threads, maxThreads: this.threads, idleTimeout: Number.MAX_SAFE_INTEGER,
      niceIncrement: nice, workerData: { statePath: init.path },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, stackSizeMb: WORKER_STACK_MB },
    };
    this.#scheduler = new CallScheduler({
      runBatch: (calls, batch, signal) => this.#startPool().run({ calls, batch }, { name: 'execute', signal }) as Promise<BatchResult>,
      commit: (c) => this.#store.commit(c),
      current: (id) => this.#store.instance(id) ?? { version: 0, stateHash: new Uint8Array(32) },
    }, { slots: this.threads, maxQueue, batchSize, callTimeout });
    if (init.lazy !== true) this.#startPool();
  }

  /** The execution pool, started on first use when the engine is lazy. */
  #startPool(): Piscina {
    if (this.#pool !== null) return this.#pool;
    const pool = new Piscina(this.#poolOptions);
    // An uncaught worker error outside a task would otherwise throw on the coordinator.
    pool.on('error', () => { this.#counts.workerErrors++; });
    pool.on('workerDestroy', () => { this.#counts.workersEnded++; });
    // A worker posts { batchStarted } as it begins a batch: the batch's wall-clock budget starts then.
    pool.on('message', (m: unknown) => {
      const batch = (m as { batchStarted?: unknown } | null)?.batchStarted;
      if (typeof batch === 'number') this.#scheduler.started(batch);
    });
    this.#pool = pool;
    return pool;
  }

  /** Opens the contract environment at `init.path` and starts the execution threads. */
  static open(init: ContractEngineInit): ContractEngine {
    if (typeof init !== 'object' || init === null) throw new TypeError('options must be an object');
    const store = ReplicaStore.open(init.path);
    try {
      return new ContractEngine(init, store);
    } catch (err) {
      store.close().catch(() => undefined); // the option error is the one to report
      throw err;
    }
  }

  /**
   * Validates and meters `wasm` in the meter pool and stores it under its code hash. Rejects
   * InvalidContractError (with the fault) for a module that breaks a rule, BUSY, TIMEOUT, DESTROYED.
   */
  async deploy(wasm: Uint8Array): Promise<DeployedCode> {
    this.#assertOpen();
    if (!(wasm instanceof Uint8Array)) throw new TypeError('wasm must be a Uint8Array');
    if (wasm.byteLength > MAX_CODE_BYTES) throw new InvalidContractError('too_big', `${wasm.byteLength} bytes, over ${MAX_CODE_BYTES}`);
    let metered;
    try {
      metered = await this.#meter.meter(wasm.slice());
    } catch (err) {
      if (err instanceof InvalidContractError) this.#counts.deployRefusals++;
      throw err;
    }
    const { codeHash, module } = metered;
    await this.#store.putCode(codeHash, { meterVersion: module.meterVersion, methods: module.methods, memory: module.memory, metered: module.code, original: wasm.slice() });
    this.#counts.deploys++;
    return {
      codeHash, methods: module.methods, memory: module.memory, originalBytes: wasm.byteLength,
      meteredBytes: module.code.byteLength, meterVersion: module.meterVersion,
    };
  }

  /**
   * Creates an instance of deployed code for `creator` (32 bytes) and `salt`, at version 0 with
   * empty state. Its id is instanceIdOf(codeHash, creator, salt); `created` is false when it existed.
   */
  async createInstance(codeHash: Uint8Array, creator: Uint8Array, salt: Uint8Array = new Uint8Array(0)): Promise<{ instanceId: Uint8Array; created: boolean }> {
    this.#assertOpen();
    bytes(codeHash, 'codeHash', 32);
    bytes(creator, 'creator', CALLER_BYTES);
    if (!(salt instanceof Uint8Array) || salt.byteLength > 64) throw new TypeError('salt must be at most 64 bytes');
    if (this.#store.code(codeHash) === null) throw DhtError.notFound('contract code');
    const instanceId = instanceIdOf(codeHash, creator, salt);
    const meta: InstanceMeta = { codeHash: codeHash.slice(), creator: creator.slice(), version: 0, stateHash: genesisStateHash(instanceId) };
    return { instanceId, created: await this.#store.createInstance(instanceId, meta) };
  }

  /** Deployed code as stored here (the original and its metered form), or null. */
  code(codeHash: Uint8Array): CodeRecord | null {
    this.#assertOpen();
    return this.#store.code(codeHash);
  }

  /** An instance's committed metadata (code, version, state hash), or null. */
  instance(instanceId: Uint8Array): InstanceMeta | null {
    this.#assertOpen();
    return this.#store.instance(instanceId);
  }

  /** The committed value of one storage key of an instance (a copy), or null. */
  read(instanceId: Uint8Array, key: Uint8Array): Uint8Array | null {
    this.#assertOpen();
    return this.#store.get(instanceId, key);
  }

  /** Runs a state-changing call; resolves with its receipt once its writes are committed. */
  call(req: CallRequest): Promise<Receipt> {
    return this.#submit(req, false);
  }

  /** Runs a read-only call on committed state; any writes it makes are reported, not applied. */
  query(req: CallRequest): Promise<Receipt> {
    return this.#submit(req, true);
  }

  /** The receipt kept under `callId`, or null (replica.ts). */
  receipt(callId: Uint8Array): StoredReceipt | null {
    this.#assertOpen();
    return this.#store.receipt(callId);
  }

  /** The call id that made `version` of an instance, while its receipt is kept. */
  callAt(instanceId: Uint8Array, version: number): Uint8Array | null {
    this.#assertOpen();
    return this.#store.callAt(instanceId, version);
  }

  /** Keeps the receipt of a call this engine ran; false when one was kept under `callId` before. */
  storeReceipt(callId: Uint8Array, r: Omit<StoredReceipt, 'storedAt'>, now: number): Promise<boolean> {
    this.#assertOpen();
    return this.#store.storeReceipt(callId, r, now);
  }

  /**
   * Commits a write set replicated from the instance's primary: a worker checks it first (version,
   * previous hash, the state hash chain over the writes, and with `check.audit` the call executed
   * again here), then the coordinator commits writes and receipt in one version-checked transaction.
   */
  async applyReplica(callId: Uint8Array, check: UpdateCheck, stored: Omit<StoredReceipt, 'storedAt'>, now: number): Promise<{ outcome: ReplicaOutcome | UpdateVerdict; audited: boolean; detail?: string }> {
    this.#assertOpen();
    if (this.#store.receipt(callId) !== null) return { outcome: 'duplicate', audited: false };
    const signal = AbortSignal.timeout(2 * this.#callTimeout);
    const verdict = await this.#startPool().run(check, { name: 'checkUpdate', signal }) as { verdict: UpdateVerdict; audited: boolean; detail?: string };
    if (verdict.verdict !== 'ok') return { outcome: verdict.verdict, audited: verdict.audited, detail: verdict.detail };
    this.#assertOpen();
    const applies = check.receipt.status === 'ok';
    const commit: ReplicatedCommit = {
      instanceId: check.call.instance, version: check.version, previousHash: check.previousHash, stateHash: check.stateHash, writes: check.receipt.writes, applies,
    };
    return { outcome: await this.#store.commitReplica(callId, commit, stored, now), audited: verdict.audited };
  }

  /** A page of an instance's state after key `after`, at most `maxBytes` of entries (at least one). */
  snapshotPage(instanceId: Uint8Array, after: Uint8Array | null, maxBytes: number): SnapshotPage | null {
    this.#assertOpen();
    return this.#store.snapshotPage(instanceId, after, maxBytes);
  }

  /** Replaces an instance's state with a snapshot from its primary; false when this copy is not older. */
  installSnapshot(instanceId: Uint8Array, meta: InstanceMeta, entries: ReadonlyArray<[Uint8Array, Uint8Array]>, replace = false): Promise<boolean> {
    this.#assertOpen();
    return this.#store.installSnapshot(instanceId, meta, entries, replace);
  }

  stats(): ContractEngineStats {
    return { ...this.#scheduler.stats(), threads: this.#pool?.threads.length ?? 0, ...this.#counts, meterThreadsRecycled: this.#meter.recycled };
  }

  /** Stops at once: queued and running calls reject with DESTROYED, threads end, LMDB closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#scheduler.close();
    await Promise.all([this.#pool?.destroy(), this.#meter.close()]);
    await this.#scheduler.settled();
    await this.#store.close();
  }

  #submit(req: CallRequest, readOnly: boolean): Promise<Receipt> {
    if (this.#closing !== null) return Promise.reject(DhtError.destroyed());
    return this.#scheduler.submit(callTask(req, readOnly));
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw DhtError.destroyed();
  }
}

/** Checks a request at the API boundary (TypeError / RangeError naming the field) and fills defaults. */
function callTask(req: CallRequest, readOnly: boolean): CallTask {
  if (typeof req !== 'object' || req === null) throw new TypeError('call must be an object');
  bytes(req.instance, 'instance', 32);
  bytes(req.caller, 'caller', CALLER_BYTES);
  if (typeof req.method !== 'string' || req.method.length === 0 || req.method.length > 64) throw new TypeError('method must be a name of 1..64 characters');
  const input = req.input ?? new Uint8Array(0);
  if (!(input instanceof Uint8Array) || input.byteLength > MAX_INPUT_BYTES) throw new RangeError(`input must be at most ${MAX_INPUT_BYTES} bytes`);
  const gasLimit = req.gasLimit ?? DEFAULT_GAS_LIMIT;
  if (!Number.isSafeInteger(gasLimit) || gasLimit < 1 || gasLimit > MAX_GAS_LIMIT) throw new RangeError(`gasLimit must be an integer in 1..${MAX_GAS_LIMIT}`);
  return { instance: req.instance.slice(), method: req.method, input: input.slice(), caller: req.caller.slice(), gasLimit, readOnly };
}

function bytes(v: unknown, name: string, length: number): void {
  if (!(v instanceof Uint8Array) || v.byteLength !== length) throw new TypeError(`${name} must be ${length} bytes`);
}

function positiveInteger(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer`);
}
