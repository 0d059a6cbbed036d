/**
 * Orders and batches calls for the execution pool. State-changing calls on one instance run in
 * submission order, one batch of them in flight at a time (the instance is "busy" until its
 * write set is committed), so the version check at commit only fails when something else wrote.
 * Queries need no order. A batch that outruns its wall-clock budget is killed (the worker is
 * terminated and replaced) and its calls are retried one per task, so only the call that
 * overran is reported `killed`. The budget runs from the moment the worker says it started the
 * batch, so waiting for a thread (a replacement booting after a kill) never counts against it.
 */
import { DhtError, second, toHex } from '../util/index.js';
import type { BatchResult } from './execute.js';
import { CALL_STATUSES, type CallStatus, type CallTask, emptyReceipt, type Receipt } from './receipt.js';
import type { InstanceCommit } from './state.js';

/** Re-executions after a failed version check before a call is answered `conflict`. */
export const MAX_CONFLICT_RETRIES = 2;
/** Longest wait for a worker to start a batch (a thread booting) before the batch counts as killed. */
const START_GRACE = 30 * second;

/** What the scheduler needs from the engine. */
export interface SchedulerDeps {
  /**
   * Runs batch number `batch` in a worker, which reports its start (see `started`); rejects
   * (AbortError) once `signal` aborts, the worker then being terminated.
   */
  runBatch(calls: CallTask[], batch: number, signal: AbortSignal): Promise<BatchResult>;
  /** Commits one instance's write set; false when its version moved. */
  commit(c: InstanceCommit): Promise<boolean>;
  /** The committed version and state hash of an instance (for receipts of calls that never ran). */
  current(instance: Uint8Array): { version: number; stateHash: Uint8Array };
}

/** Limits of the scheduler. */
export interface SchedulerLimits {
  /** Batches in flight at most (one per worker thread). */
  slots: number;
  /** Calls waiting at most before BUSY. */
  maxQueue: number;
  /** Calls per batch at most. */
  batchSize: number;
  /** Wall-clock ms per call; a batch of n calls gets n times this. */
  callTimeout: number;
}

interface Pending {
  task: CallTask;
  resolve(r: Receipt): void;
  reject(err: Error): void;
  attempts: number;
  /** Retried after its batch was killed: runs in a batch of its own. */
  alone: boolean;
}

/** Counters of the scheduler. */
export interface SchedulerStats {
  queued: number;
  peakQueued: number;
  inFlight: number;
  batches: number;
  busyRejections: number;
  killedBatches: number;
  conflictRetries: number;
  calls: Record<CallStatus, number>;
}

/** Queues, batches, dispatches and commits calls. */
export class CallScheduler {
  readonly #deps: SchedulerDeps;
  readonly #limits: SchedulerLimits;
  /** State-changing calls by instance (hex), in order; Map order gives round-robin fairness. */
  readonly #queues = new Map<string, Pending[]>();
  readonly #queries: Pending[] = [];
  readonly #busy = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  /** Kill timers of the batches in flight, by batch number. */
  readonly #timers = new Map<number, { abort: AbortController; budget: number; timer: NodeJS.Timeout }>();
  #lastBatch = 0;
  #queued = 0;
  #flushScheduled = false;
  #closed = false;
  readonly #stats = { peakQueued: 0, batches: 0, busyRejections: 0, killedBatches: 0, conflictRetries: 0 };
  readonly #calls = Object.fromEntries(CALL_STATUSES.map((s) => [s, 0])) as Record<CallStatus, number>;

  constructor(deps: SchedulerDeps, limits: SchedulerLimits) {
    this.#deps = deps;
    this.#limits = limits;
  }

  /** Queues a validated call; rejects BUSY when the queue is full, DESTROYED once closed. */
  submit(task: CallTask): Promise<Receipt> {
    if (this.#closed) return Promise.reject(DhtError.destroyed());
    if (this.#queued >= this.#limits.maxQueue) {
      this.#stats.busyRejections++;
      return Promise.reject(new DhtError('BUSY', 'contract call queue is full; try later'));
    }
    return new Promise((resolve, reject) => {
      this.#enqueue({ task, resolve, reject, attempts: 0, alone: false }, false);
      this.#stats.peakQueued = Math.max(this.#stats.peakQueued, this.#queued);
    });
  }

  stats(): SchedulerStats {
    return { queued: this.#queued, inFlight: this.#running.size, ...this.#stats, calls: { ...this.#calls } };
  }

  /** A worker started batch `batch`: its wall-clock budget starts now. */
  started(batch: number): void {
    const t = this.#timers.get(batch);
    if (t === undefined) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => t.abort.abort(), t.budget).unref();
  }

  /** Rejects every queued call with DESTROYED; running batches end with the pool. */
  close(): void {
    this.#closed = true;
    const queued = [...this.#queries.splice(0), ...[...this.#queues.values()].flat()];
    this.#queues.clear();
    this.#queued = 0;
    for (const p of queued) p.reject(DhtError.destroyed());
  }

  /** Resolves once no batch is running or committing. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #enqueue(p: Pending, front: boolean): void {
    this.#queued++;
    let queue = this.#queries;
    if (!p.task.readOnly) {
      const id = toHex(p.task.instance);
      queue = this.#queues.get(id) ?? [];
      this.#queues.set(id, queue);
    }
    if (front) queue.unshift(p);
    else queue.push(p);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    while (!this.#closed && this.#running.size < this.#limits.slots) {
      const batch = this.#take();
      if (batch.length === 0) return;
      const run = this.#dispatch(batch).finally(() => {
        this.#running.delete(run);
        this.#flush();
      });
      this.#running.add(run);
    }
  }

  /** The next batch: whole runs of non-busy instances' queues, then queries; `alone` calls by themselves. */
  #take(): Pending[] {
    const batch: Pending[] = [];
    const room = (): number => this.#limits.batchSize - batch.length;
    const takeFrom = (queue: Pending[]): void => {
      while (queue.length > 0 && room() > 0) {
        const next = queue[0] as Pending;
        if (next.alone && batch.length > 0) return;
        batch.push(queue.shift() as Pending);
        if (next.alone) return;
      }
    };
    for (const [id, queue] of this.#queues) {
      if (room() === 0 || batch.at(-1)?.alone === true) break;
      if (this.#busy.has(id)) continue;
      const before = batch.length;
      takeFrom(queue);
      if (batch.length > before) this.#busy.add(id);
      if (queue.length === 0) this.#queues.delete(id);
    }
    if (batch.at(-1)?.alone !== true) takeFrom(this.#queries);
    this.#queued -= batch.length;
    return batch;
  }

  async #dispatch(batch: Pending[]): Promise<void> {
    this.#stats.batches++;
    const instances = new Set(batch.filter((p) => !p.task.readOnly).map((p) => toHex(p.task.instance)));
    try {
      let result: BatchResult;
      try {
        result = await this.#runWithKill(batch);
      } catch (err) {
        this.#failed(batch, err);
        return;
      }
      await this.#settle(batch, result);
    } finally {
      for (const id of instances) this.#busy.delete(id);
    }
  }

  /** Runs `batch` in a worker, aborting it `callTimeout` per call after the worker starts it. */
  async #runWithKill(batch: Pending[]): Promise<BatchResult> {
    const number = ++this.#lastBatch;
    const abort = new AbortController();
    const budget = this.#limits.callTimeout * batch.length;
    const kill = { abort, budget, timer: setTimeout(() => abort.abort(), START_GRACE + budget).unref() };
    this.#timers.set(number, kill);
    try {
      return await this.#deps.runBatch(batch.map((p) => p.task), number, abort.signal);
    } finally {
      clearTimeout(kill.timer);
      this.#timers.delete(number);
    }
  }

  /**
   * Commits each instance's writes, then answers the calls. A failed version check sends an
   * instance's calls round again; a storage error fails them; a commit not tried because the
   * engine is closing leaves them DESTROYED. Queries and committed calls get their receipts.
   */
  async #settle(batch: Pending[], result: BatchResult): Promise<void> {
    const unsettled = new Map<string, Error | 'conflict'>();
    for (const c of result.commits) {
      const id = toHex(c.instanceId);
      if (this.#closed) {
        unsettled.set(id, DhtError.destroyed());
        continue;
      }
      try {
        if (!(await this.#deps.commit(c))) unsettled.set(id, 'conflict');
      } catch (err) {
        unsettled.set(id, err instanceof Error ? err : new Error(String(err)));
      }
    }
    const retry: Pending[] = [];
    batch.forEach((p, i) => {
      const why = p.task.readOnly ? undefined : unsettled.get(toHex(p.task.instance));
      if (why === undefined) this.#answer(p, result.receipts[i] as Receipt);
      else if (why !== 'conflict') p.reject(why);
      else if (this.#closed) p.reject(DhtError.destroyed());
      else retry.push(p);
    });
    for (const p of retry.reverse()) {
      if (++p.attempts > MAX_CONFLICT_RETRIES) {
        const now = this.#deps.current(p.task.instance);
        this.#answer(p, emptyReceipt('conflict', now.version, now.stateHash, 0, 'state changed while the call ran'));
      } else {
        this.#stats.conflictRetries++;
        this.#enqueue(p, true);
      }
    }
  }

  /** A batch that was killed (or whose worker died): a lone call is `killed`, others go again alone. */
  #failed(batch: Pending[], err: unknown): void {
    if (this.#closed) {
      for (const p of batch) p.reject(DhtError.destroyed());
      return;
    }
    this.#stats.killedBatches++;
    const reason = err instanceof Error && err.name === 'AbortError' ? 'over the wall-clock limit' : `worker failed: ${String(err)}`;
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only !== undefined) {
      const now = this.#deps.current(only.task.instance);
      this.#answer(only, emptyReceipt('killed', now.version, now.stateHash, only.task.gasLimit, `killed: ${reason}`));
      return;
    }
    for (const p of [...batch].reverse()) {
      p.alone = true;
      this.#enqueue(p, true);
    }
  }

  #answer(p: Pending, r: Receipt): void {
    this.#calls[r.status]++;
    p.resolve(r);
  }
}
