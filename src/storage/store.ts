/**
 * The node's value store on LMDB (lmdb-js): synchronous zero-copy reads on the request path,
 * writes batched by lmdb-js and acknowledged only after their transaction is committed and
 * synced, a byte cap on values, TTL expiry through an ordered index (BEP 44: items expire,
 * storers refresh them), and a small table of node-level state for warm restarts.
 */
import { isId, type Key } from '../id/index.js';
import { DHT_REPLICATION_FACTOR, DhtError, EXPIRY_SWEEP_INTERVAL, MAX_REPLICATION_FACTOR, MAX_TTL, type Timer } from '../util/index.js';
import { ValueKind } from '../wire/index.js';
import { fastView, sourceOf } from './codec.js';
import { MAX_NODE_STATE_BYTES, MAX_NODE_STATE_NAME, MIN_TTL, SWEEP_BATCH } from './constants.js';
import { toStorageError } from './errors.js';
import { resolveStoreOptions, type StoreInit, type StoreOptions } from './options.js';
import { isLive, type Ledger, liveEntries, readMeta, readValueView, rebuildSourceIndex, scanLedger, tally } from './read.js';
import { openTables, type Tables } from './tables.js';
import type { PutInput, PutOutcome, StoredEntry, StoredValue, StoreStats } from './types.js';
import { deleteInTxn, newDelta, type NewRecord, putInTxn, Rollback, sweepInTxn, type TxnContext } from './write.js';

/**
 * A key → value store with expiry, backed by one LMDB environment holding four tables: `values`,
 * `meta`, an `expiry` index ordered by (expiresAt, key), and `node` for node-level blobs.
 * Expired records are absent to every read and removed by `sweep` (or `startSweeping`).
 */
export class Store {
  readonly #t: Tables;
  readonly #o: StoreOptions;
  readonly #ledger: Ledger;
  readonly #counters = { swept: 0, refusedFull: 0, refusedTooBig: 0, sweepFailures: 0, refusedQuota: 0, evicted: 0 };
  /** Records evicted at the global cap, by source, since open. */
  readonly #evictedBy = new Map<string, number>();
  #timer: Timer | null = null;
  /** Sweeps run one after another; this is the end of the queue. */
  #sweepTail: Promise<unknown> = Promise.resolve();
  #sweepsQueued = 0;
  #closing: Promise<void> | null = null;

  private constructor(t: Tables, o: StoreOptions) {
    this.#t = t;
    this.#o = o;
    rebuildSourceIndex(t);
    this.#ledger = scanLedger(t);
  }

  /**
   * Opens (creating if needed) the store in the directory `init.path` and recounts its records
   * and bytes. Throws TypeError / RangeError naming a bad option.
   */
  static open(init: StoreInit): Store {
    const o = resolveStoreOptions(init);
    const t = openTables(o.path, o.mapSize);
    try {
      return new Store(t, o);
    } catch (err) {
      t.root.close().catch(() => undefined); // the error that stopped the open is the one to report
      throw err;
    }
  }

  /**
   * The live record under `key`, or undefined. `value` is a zero-copy view of LMDB's read buffer
   * (lmdb-js getBinaryFast): it is valid only until the next read of any LMDB database in this
   * process or the next write, so encode or copy it before doing either. Use `getCopy` to keep it.
   */
  get(key: Key): StoredValue | undefined {
    this.#assertOpen();
    assertKey(key);
    const meta = readMeta(this.#t, key); // decoded before the value read reuses the buffer
    if (!isLive(meta, this.#o.clock.now())) return undefined;
    const value = readValueView(this.#t, key);
    return value === undefined ? undefined : { ...meta, value };
  }

  /** Like `get`, but `value` is the caller's own copy. */
  getCopy(key: Key): StoredValue | undefined {
    const found = this.get(key);
    return found === undefined ? undefined : { ...found, value: new Uint8Array(found.value) };
  }

  /** True when a live record is stored under `key`. */
  has(key: Key): boolean {
    this.#assertOpen();
    assertKey(key);
    return isLive(readMeta(this.#t, key), this.#o.clock.now());
  }

  /**
   * Stores `input.value` under `input.key` for `input.ttl` ms (clamped to [MIN_TTL, MAX_TTL]),
   * resolving once the write is committed and synced to disk. Identical bytes already live under
   * the key are `refreshed`: only their expiry moves, and only later. Rejects with VALUE_TOO_BIG
   * over `maxValueBytes`, STORAGE_FULL when the value does not fit the cap or the map size
   * (after removing expired records), and DESTROYED after `close`.
   */
  async put(input: PutInput): Promise<PutOutcome> {
    this.#assertOpen();
    const rec = this.#record(input);
    const r = await this.#mutate((c) => putInTxn(c, rec));
    this.#counters.swept += r.swept;
    if (r.outcome === 'refused') {
      if (r.error.code === 'VALUE_TOO_BIG') this.#counters.refusedTooBig++;
      throw r.error;
    }
    if (r.outcome === 'full') {
      if (r.quota) {
        this.#counters.refusedQuota++;
        throw new DhtError('STORAGE_FULL', `per-source quota of ${this.#o.perSourceBytes} bytes reached for ${sourceOf(input.origin)}`);
      }
      this.#counters.refusedFull++;
      throw DhtError.storageFull(r.needed);
    }
    return r.outcome;
  }

  /** Removes the record under `key`; resolves true when a live record was removed. */
  async delete(key: Key): Promise<boolean> {
    this.#assertOpen();
    assertKey(key);
    const copy = new Uint8Array(key) as Key;
    return this.#mutate((c) => deleteInTxn(c, copy));
  }

  /**
   * Removes every record expired at the time the sweep starts, in transactions of at most
   * SWEEP_BATCH records, and resolves with how many it removed. Sweeps run one at a time.
   */
  sweep(): Promise<number> {
    if (this.#closing !== null) return Promise.reject(closedError());
    this.#sweepsQueued++;
    const run = this.#sweepTail.then(() => this.#sweepAll()).finally(() => { this.#sweepsQueued--; });
    this.#sweepTail = run.catch(() => 0); // the caller of this sweep sees its failure
    return run;
  }

  /**
   * Sweeps every `intervalMs` on the store's clock (the timer does not keep the process alive)
   * until `close`. A tick is skipped while a sweep is running; a failed sweep is counted in
   * `stats().sweepFailures` and retried at the next tick. Calling it again replaces the timer.
   */
  startSweeping(intervalMs: number = EXPIRY_SWEEP_INTERVAL): void {
    this.#assertOpen();
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError('intervalMs must be a positive number of milliseconds');
    }
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setInterval(() => {
      if (this.#closing !== null || this.#sweepsQueued > 0) return;
      this.sweep().catch(() => { this.#counters.sweepFailures++; });
    }, intervalMs);
  }

  /** Keys of the live records, in key order. Iterate without awaiting in between. */
  *keys(): Generator<Key> {
    for (const entry of this.entries()) yield entry.key;
  }

  /** Keys and metadata of the live records, in key order, from `from` on (inclusive) when given (for repair). */
  entries(from?: Key): Generator<StoredEntry> {
    this.#assertOpen();
    return liveEntries(this.#t, () => this.#o.clock.now(), from);
  }

  /** Occupancy and counters. Still answers after `close` (with the last known figures). */
  stats(): StoreStats {
    const { records, bytes } = this.#ledger;
    const { capBytes, mapSize, perSourceBytes } = this.#o;
    const sources = [...this.#ledger.sources].map(([source, t]) => ({ source, bytes: t.bytes, records: t.records }))
      .sort((a, b) => b.bytes - a.bytes).slice(0, 20);
    return { records, bytes, capBytes, utilization: Math.min(1, bytes / capBytes), mapSize, perSourceBytes, ...this.#counters, sources };
  }

  /** Records evicted at the global cap since open, by source (T23's report). */
  evictions(): Map<string, number> {
    return new Map(this.#evictedBy);
  }

  /** Bytes and records one source holds (a host, or `self`). */
  sourceUsage(source: string): { bytes: number; records: number } {
    const t = this.#ledger.sources.get(source);
    return { bytes: t?.bytes ?? 0, records: t?.records ?? 0 };
  }

  /** The node-level blob saved under `name` (a copy), or undefined. */
  getNodeState(name: string): Uint8Array | undefined {
    this.#assertOpen();
    assertStateName(name);
    const raw = this.#t.node.getBinaryFast(name);
    return raw === undefined ? undefined : new Uint8Array(fastView(raw));
  }

  /**
   * Saves a node-level blob (e.g. the routing-table snapshot) under `name`, resolving after the
   * commit. Not counted against the cap; at most MAX_NODE_STATE_BYTES.
   */
  async putNodeState(name: string, bytes: Uint8Array): Promise<void> {
    this.#assertOpen();
    assertStateName(name);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (bytes.byteLength > MAX_NODE_STATE_BYTES) {
      throw new RangeError(`node state must be at most ${MAX_NODE_STATE_BYTES} bytes, got ${bytes.byteLength}`);
    }
    try {
      await this.#t.node.put(name, Buffer.from(bytes));
    } catch (err) {
      throw await this.#failure(err);
    }
  }

  /** Stops sweeping, waits for queued writes and sweeps, and closes LMDB. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = null;
    await this.#sweepTail;
    await this.#t.root.close();
  }

  /** Validates and copies a put's input, so later changes to the caller's buffers are harmless. */
  #record(input: PutInput): NewRecord {
    if (typeof input !== 'object' || input === null) throw new TypeError('put input must be an object');
    assertKey(input.key);
    if (!(input.value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array');
    if (typeof input.ttl !== 'number' || Number.isNaN(input.ttl)) throw new RangeError('ttl must be a number of milliseconds');
    if (typeof input.origin !== 'string') throw new TypeError('origin must be a string');
    const size = input.value.byteLength;
    if (size > this.#o.maxValueBytes) {
      this.#counters.refusedTooBig++;
      throw DhtError.valueTooBig(size, this.#o.maxValueBytes);
    }
    const now = this.#o.clock.now();
    const ttl = Math.min(MAX_TTL, Math.max(MIN_TTL, input.ttl));
    const kind = input.kind ?? ValueKind.IMMUTABLE;
    const replicas = input.replicas ?? DHT_REPLICATION_FACTOR;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICATION_FACTOR) throw new RangeError('replicas must be an integer in 0..12');
    if (input.decide !== undefined && typeof input.decide !== 'function') throw new TypeError('decide must be a function');
    const meta = { storedAt: now, expiresAt: now + ttl, size, kind, replicas, origin: input.origin };
    return { key: new Uint8Array(input.key) as Key, value: Buffer.from(input.value), meta, decide: input.decide };
  }

  /**
   * Runs `body` in an LMDB child transaction (all of its writes or none) and resolves after the
   * commit. Ledger changes are made inside, so the next transaction of the same batch sees them,
   * and undone if the transaction or its commit fails.
   */
  async #mutate<T>(body: (c: TxnContext) => T, now = this.#o.clock.now()): Promise<T> {
    const delta = newDelta();
    const { capBytes, mapSize, perSourceBytes, maxValueBytes } = this.#o;
    try {
      const result = await this.#t.root.childTransaction(() => body({ t: this.#t, ledger: this.#ledger, delta, now, capBytes, mapSize, perSourceBytes, maxValueBytes }));
      for (const [source, n] of delta.evicted) {
        this.#evictedBy.set(source, (this.#evictedBy.get(source) ?? 0) + n);
        this.#counters.evicted += n;
      }
      return result;
    } catch (err) {
      this.#ledger.records -= delta.records;
      this.#ledger.bytes -= delta.bytes;
      for (const d of delta.sources) tally(this.#ledger.sources, d.source, -d.records, -d.bytes);
      if (err instanceof Rollback) return err.result as T;
      throw await this.#failure(err);
    }
  }

  async #failure(err: unknown): Promise<unknown> {
    const mapped = await toStorageError(err);
    if (mapped instanceof DhtError && mapped.code === 'STORAGE_FULL') this.#counters.refusedFull++;
    return mapped;
  }

  async #sweepAll(): Promise<number> {
    const now = this.#o.clock.now();
    let total = 0;
    for (;;) {
      const batch = await this.#mutate((c) => sweepInTxn(c, SWEEP_BATCH), now);
      total += batch.removed;
      this.#counters.swept += batch.removed;
      // Done, or closing: what is left expires just the same and the next open's sweep takes it.
      if (batch.scanned < SWEEP_BATCH || this.#closing !== null) return total;
    }
  }

  #assertOpen(): void {
    if (this.#closing !== null) throw closedError();
  }
}

function closedError(): DhtError {
  return new DhtError('DESTROYED', 'store is closed');
}

function assertKey(key: unknown): asserts key is Key {
  if (!isId(key)) throw new TypeError('key must be a 32-byte Uint8Array');
}

function assertStateName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NODE_STATE_NAME) {
    throw new TypeError(`name must be a non-empty string of at most ${MAX_NODE_STATE_NAME} characters`);
  }
}
