/**
 * Compiled contracts and their live instances, per worker thread. One instance per code is kept
 * and reused: after instantiation its memory is snapshotted, and before each call the snapshot is
 * copied back and `__reset` restores the mutable globals, so every call starts exactly as on a
 * fresh instance (same memory, same globals, same gas). An instance whose memory grew is dropped
 * (memory.size, and so allocators and gas, must not depend on history). Measured here: 9-27 µs
 * per call on a reused instance against 130-165 µs on a fresh one (docs/contracts.md).
 */
import { type CallContext, type HostBinding, hostFunctions } from './host.js';
import { START_GAS_LIMIT } from './limits.js';
import type { CodeRecord } from './records.js';

const PAGE = 65536;

/** An instance ready for one call, and how to give it back. */
export interface LiveInstance {
  readonly binding: HostBinding;
  readonly gas: WebAssembly.Global;
  readonly depth: WebAssembly.Global;
  method(name: string): (() => void) | null;
}

interface Ready extends LiveInstance {
  readonly reset: () => void;
  readonly exports: Record<string, WebAssembly.ExportValue>;
  snapshot: Uint8Array;
}

/**
 * Compiled code an Executor runs calls on: its methods, and one instance at a time for a call.
 * CompiledContract is the one the workers use; bench/contracts.ts supplies an unmetered one.
 */
export interface ContractCode {
  readonly methods: ReadonlySet<string>;
  acquire(call: CallContext, fresh?: boolean): LiveInstance;
  release(inst: LiveInstance): void;
}

/** Where an Executor gets compiled code by key (compiling `load()` on a miss): a CodeCache in the workers. */
export interface CodeSource {
  get(key: string, load: () => CodeRecord | null): ContractCode | null;
  /** Instances created and reused calls so far. */
  totals(): InstanceCounts;
}

/** Instances a contract created and calls a reused instance served. */
export interface InstanceCounts { created: number; reused: number }

/** The counts of `contracts` added up: what a CodeSource's totals() reports over its entries. */
export function sumCounts(contracts: Iterable<{ readonly counts: InstanceCounts }>): InstanceCounts {
  let created = 0;
  let reused = 0;
  for (const c of contracts) {
    created += c.counts.created;
    reused += c.counts.reused;
  }
  return { created, reused };
}

/** The instance could not be created: its start function trapped, ran out of gas, or called the host. */
export class StartFailure extends Error {
  override readonly name = 'StartFailure';
}

/** One metered module compiled in this thread, with at most one idle instance. */
export class CompiledContract implements ContractCode {
  readonly methods: ReadonlySet<string>;
  readonly #module: WebAssembly.Module;
  readonly #memory: { initial: number; maximum: number };
  #idle: Ready | null = null;
  /** Instances created and calls served by a reused one: for tests and stats. */
  readonly counts: InstanceCounts = { created: 0, reused: 0 };
  /** Bytes an idle instance holds at most: its memory and its snapshot. */
  readonly footprint: number;

  constructor(record: CodeRecord) {
    this.#module = new WebAssembly.Module(record.metered);
    this.methods = new Set(record.methods);
    this.#memory = record.memory;
    this.footprint = 2 * record.memory.initial * PAGE;
  }

  /**
   * An instance in its post-start state for `call`: the idle one, restored, unless `fresh` or
   * none is idle. Throws StartFailure when a new instance cannot be made.
   */
  acquire(call: CallContext, fresh = false): LiveInstance {
    let inst = fresh ? null : this.#idle;
    this.#idle = null;
    if (inst !== null) {
      new Uint8Array(inst.binding.memory.buffer).set(inst.snapshot);
      inst.reset();
      this.counts.reused++;
    } else {
      inst = this.#instantiate();
    }
    inst.binding.call = call;
    return inst;
  }

  /** Takes `inst` back after its call; it is kept for reuse only if its memory did not grow. */
  release(inst: LiveInstance): void {
    inst.binding.call = null;
    const ready = inst as Ready;
    if (ready.binding.memory.buffer.byteLength === this.#memory.initial * PAGE) this.#idle = ready;
  }

  #instantiate(): Ready {
    const memory = new WebAssembly.Memory({ initial: this.#memory.initial, maximum: this.#memory.maximum });
    const binding: HostBinding = { memory, gas: null, call: null };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#module, {
        env: { ...hostFunctions(binding), memory },
        meter: { gas_limit: BigInt(START_GAS_LIMIT) },
      });
    } catch (err) {
      throw new StartFailure(`instantiation failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.counts.created++;
    const exports = instance.exports;
    const gas = exports.__gas as WebAssembly.Global;
    binding.gas = gas;
    return {
      binding, gas, exports,
      depth: exports.__depth as WebAssembly.Global,
      reset: exports.__reset as () => void,
      snapshot: new Uint8Array(memory.buffer).slice(),
      method: (name) => (this.methods.has(name) ? (exports[name] as () => void) : null),
    };
  }
}

/**
 * Compiled contracts of this thread by code hash (hex), least recently used evicted first. Bounded
 * by count and by the bytes their idle instances may hold (memory plus snapshot: 2 × initial
 * pages each), so a worker holding many large-memory contracts stays within `maxBytes`.
 */
export class CodeCache implements CodeSource {
  readonly #entries = new Map<string, CompiledContract>();
  #bytes = 0;

  constructor(readonly capacity = 64, readonly maxBytes = 256 * 1024 * 1024) {}

  /** Instances created and reused calls over every cached contract. */
  totals(): InstanceCounts {
    return sumCounts(this.#entries.values());
  }

  /** The compiled contract for `key`, compiling `load()` on a miss; null when load() has nothing. */
  get(key: string, load: () => CodeRecord | null): CompiledContract | null {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const record = load();
    if (record === null) return null;
    const compiled = new CompiledContract(record);
    this.#entries.set(key, compiled);
    this.#bytes += compiled.footprint;
    for (const [oldest, c] of this.#entries) {
      if (this.#entries.size <= this.capacity && this.#bytes <= this.maxBytes) break;
      if (c === compiled) break;
      this.#entries.delete(oldest);
      this.#bytes -= c.footprint;
    }
    return compiled;
  }
}
