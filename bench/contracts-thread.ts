/**
 * The main-thread modes of `npm run bench:contracts`: the workers' own Executor
 * (src/contracts/execute.ts) run on this thread over contract state kept in maps instead of LMDB,
 * with either the metered code (the workers' CodeCache) or the original, uninstrumented module
 * (UnmeteredCode below). Both reach the contract through the runtime's host functions
 * (src/contracts/host.ts): nothing here implements ABI v1 a second time.
 */
import { type CodeRecord, genesisStateHash, instanceIdOf, type InstanceMeta, type Receipt } from '../src/contracts/index.js';
import {
  type CallContext, type CallTask, CodeCache, type CodeSource, type ContractCode, Executor, type HostBinding, hostFunctions,
  type InstanceCommit, type InstanceCounts, type LiveInstance, StartFailure, type StateSource, sumCounts,
} from '../src/contracts/runtime.js';
import { toHex } from '../src/util/index.js';

/** Contract code, instances and state in maps: what the main-thread modes read instead of LMDB. */
export class MemoryState implements StateSource {
  readonly #code = new Map<string, CodeRecord>();
  readonly #instances = new Map<string, InstanceMeta>();
  /** Values by hex(instance id) ‖ hex(key). */
  readonly #state = new Map<string, Uint8Array>();

  /** Nothing to renew: every read sees the latest commit. */
  refresh(): void {}

  code(codeHash: Uint8Array): CodeRecord | null {
    return this.#code.get(toHex(codeHash)) ?? null;
  }

  instance(id: Uint8Array): InstanceMeta | null {
    return this.#instances.get(toHex(id)) ?? null;
  }

  view(id: Uint8Array, key: Uint8Array): Uint8Array | null {
    return this.#state.get(toHex(id) + toHex(key)) ?? null;
  }

  putCode(codeHash: Uint8Array, record: CodeRecord): void {
    this.#code.set(toHex(codeHash), record);
  }

  /** Creates an instance at version 0 with the id and state hash ContractEngine.createInstance gives it. */
  createInstance(codeHash: Uint8Array, creator: Uint8Array, salt = new Uint8Array(0)): Uint8Array {
    const id = instanceIdOf(codeHash, creator, salt);
    if (this.#instances.has(toHex(id))) throw new Error('instance exists already');
    this.#instances.set(toHex(id), { codeHash, creator, version: 0, stateHash: genesisStateHash(id) });
    return id;
  }

  /** Applies a write set as ContractStore.commit does, version check included; false when the version moved. */
  commit(c: InstanceCommit): boolean {
    const id = toHex(c.instanceId);
    const meta = this.#instances.get(id);
    if (meta === undefined || meta.version !== c.baseVersion) return false;
    for (const w of c.writes) {
      if (w.value === null) this.#state.delete(id + toHex(w.key));
      else this.#state.set(id + toHex(w.key), w.value);
    }
    this.#instances.set(id, { ...meta, version: c.version, stateHash: c.stateHash });
    return true;
  }
}

/**
 * Memory at which an unmetered instance is replaced rather than reused: a quarter of the 16 MiB
 * cap, far from it. Replacing at the first growth, as CompiledContract does, would make a new
 * instance (a new WebAssembly.Memory, about 50 µs) every ~140 counter calls, since nothing resets
 * the bump allocator; up to 4 MiB it is one per several thousand calls.
 */
const UNMETERED_MEMORY_CAP = 4 * 1024 * 1024;

/**
 * The original (uninstrumented) module of each code, for the `main-unmetered` mode: a CodeSource
 * the Executor uses in place of the workers' CodeCache. The module has no `__gas`, `__depth` or
 * `__reset`, so each instance gets a gas global of its own that only the host functions charge,
 * and is reused without a reset: a call starts where the last one left the module's bump
 * allocator (the examples keep nothing between calls outside storage, so receipts other than gas
 * match), and an instance is replaced once its memory has grown past UNMETERED_MEMORY_CAP. The
 * metered mode restores its 64 KiB snapshot and calls `__reset` before every call; this one does
 * neither, so metering_overhead_x counts both the meter's charges and that restore.
 */
export class UnmeteredCode implements CodeSource {
  readonly #entries = new Map<string, UnmeteredContract>();

  get(key: string, load: () => CodeRecord | null): ContractCode | null {
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const record = load();
    if (record === null) return null;
    const compiled = new UnmeteredContract(record);
    this.#entries.set(key, compiled);
    return compiled;
  }

  totals(): InstanceCounts {
    return sumCounts(this.#entries.values());
  }
}

/** One original module compiled on this thread, with at most one idle instance. */
class UnmeteredContract implements ContractCode {
  readonly methods: ReadonlySet<string>;
  readonly counts: InstanceCounts = { created: 0, reused: 0 };
  readonly #module: WebAssembly.Module;
  /** What a new instance's host functions hold until the instance's own memory exists. */
  readonly #placeholder = new WebAssembly.Memory({ initial: 0 });
  readonly #noDepth = new WebAssembly.Global({ value: 'i32' }, 0);
  #idle: LiveInstance | null = null;

  constructor(record: CodeRecord) {
    this.#module = new WebAssembly.Module(record.original);
    this.methods = new Set(record.methods);
  }

  acquire(call: CallContext, fresh = false): LiveInstance {
    let inst = fresh ? null : this.#idle;
    this.#idle = null;
    if (inst !== null) this.counts.reused++;
    else inst = this.#instantiate();
    inst.binding.call = call;
    return inst;
  }

  release(inst: LiveInstance): void {
    inst.binding.call = null;
    if (inst.binding.memory.buffer.byteLength <= UNMETERED_MEMORY_CAP) this.#idle = inst;
  }

  #instantiate(): LiveInstance {
    const gas = new WebAssembly.Global({ value: 'i64', mutable: true }, 0n);
    const binding: HostBinding = { memory: this.#placeholder, gas, call: null };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#module, { env: hostFunctions(binding) });
    } catch (err) {
      throw new StartFailure(`instantiation failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const exports = instance.exports;
    // The host functions re-read binding.memory on every access, so they follow the swap.
    binding.memory = exports.memory as WebAssembly.Memory;
    this.counts.created++;
    return { binding, gas, depth: this.#noDepth, method: (name) => (this.methods.has(name) ? (exports[name] as () => void) : null) };
  }
}

/** An Executor over a MemoryState on this thread: a worker's task loop without the worker. */
export class ThreadRuntime {
  readonly state = new MemoryState();
  readonly executor: Executor;

  /** `unmetered`: run the original modules (UnmeteredCode) instead of the metered ones. */
  constructor(unmetered: boolean) {
    this.executor = new Executor(this.state, unmetered ? new UnmeteredCode() : new CodeCache());
  }

  /** Runs `calls` as one batch, as workers/contract.ts does, then commits the write sets as the engine does. */
  runBatch(calls: readonly CallTask[]): Receipt[] {
    const { receipts, commits } = this.executor.runBatch(calls);
    for (const c of commits) {
      if (!this.state.commit(c)) throw new Error('a main-thread commit failed its version check');
    }
    return receipts;
  }
}
