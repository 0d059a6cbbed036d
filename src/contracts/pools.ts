/**
 * The two worker pools behind the contract engine. The meter pool (workers/meter.js) validates
 * and meters deployed modules one at a time in a single thread that loads binaryen; the thread
 * exits when idle, and is replaced after any task whose error came out of binaryen. The execution
 * pool (workers/contract.js) runs calls; its threads read the contract environment read-only.
 */
import { Piscina } from 'piscina';
import { DhtError, second } from '../util/index.js';
import { InvalidContractError } from './errors.js';
import type { MeteredModule, MeterOutcome } from './meter.js';
import { builtFile } from './paths.js';

/** Default time to validate and meter one module (a 256 KiB module takes well under a second). */
export const DEFAULT_METER_TIMEOUT = 30 * second;
/** Deploys waiting at most before BUSY. */
export const DEFAULT_METER_QUEUE = 16;
/** An idle meter thread (and its binaryen heap) goes after this long. */
const METER_IDLE = 30 * second;

/** Options of the meter pool. */
export interface MeterPoolInit {
  timeout?: number;
  maxQueue?: number;
  niceIncrement?: number;
}

/** Validation and metering off the coordinator: `meter(wasm)` resolves or throws InvalidContractError. */
export class MeterPool {
  readonly #timeout: number;
  readonly #maxQueue: number;
  readonly #nice: number;
  #piscina: Piscina | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #closed = false;
  /** Threads replaced because binaryen threw (tests read it). */
  recycled = 0;

  constructor(init: MeterPoolInit = {}) {
    this.#timeout = init.timeout ?? DEFAULT_METER_TIMEOUT;
    this.#maxQueue = init.maxQueue ?? DEFAULT_METER_QUEUE;
    this.#nice = init.niceIncrement ?? 19;
  }

  /** The code hash and metered form of `wasm`. Rejects InvalidContractError, BUSY, TIMEOUT or DESTROYED. */
  meter(wasm: Uint8Array): Promise<{ codeHash: Uint8Array; module: MeteredModule }> {
    if (this.#closed) return Promise.reject(DhtError.destroyed());
    if (this.#waiting >= this.#maxQueue) return Promise.reject(new DhtError('BUSY', 'meter queue is full; try later'));
    this.#waiting++;
    // One module at a time: after a poisoned result the thread is replaced before the next task.
    const run = this.#tail.then(() => this.#run(wasm)).finally(() => { this.#waiting--; });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Ends the thread; queued deploys reject with DESTROYED. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#piscina?.destroy();
    this.#piscina = null;
  }

  async #run(wasm: Uint8Array): Promise<{ codeHash: Uint8Array; module: MeteredModule }> {
    if (this.#closed) throw DhtError.destroyed();
    this.#piscina ??= new Piscina({
      filename: workerFile('meter'), minThreads: 0, maxThreads: 1, idleTimeout: METER_IDLE, niceIncrement: this.#nice,
    });
    const piscina = this.#piscina;
    let outcome: MeterOutcome;
    try {
      outcome = (await piscina.run({ wasm }, { name: 'meter', signal: AbortSignal.timeout(this.#timeout) })) as MeterOutcome;
    } catch (err) {
      if (this.#closed) throw DhtError.destroyed();
      if (err instanceof Error && err.name === 'AbortError') throw DhtError.timeout('contract metering');
      throw err;
    }
    if (outcome.ok) return { codeHash: outcome.codeHash, module: outcome.module };
    if (outcome.poisoned) {
      this.recycled++;
      this.#piscina = null;
      await piscina.destroy();
    }
    throw new InvalidContractError(outcome.fault, outcome.message);
  }
}

/** dist/workers/<name>.js of this package. */
export function workerFile(name: 'meter' | 'contract'): string {
  return builtFile('workers', `${name}.js`);
}
