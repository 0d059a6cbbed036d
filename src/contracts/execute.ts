/**
 * Runs batches of calls in a contract worker: reads instance metadata and state synchronously
 * from LMDB (read-only), runs each call on a reused instance with its own gas limit, and returns
 * a receipt per call plus, per instance, the merged write set to commit with a version check.
 * Calls on one instance in a batch run in order, each seeing the writes of the ok calls before it;
 * a batch reads one LMDB snapshot, taken when it starts.
 */
import { toHex } from '../util/index.js';
import { CallContext, HostTrap, OutOfGas, Revert } from './host.js';
import { nextStateHash, sortWrites, type StateWrite } from './ids.js';
import { CodeCache, type CodeSource, type ContractCode, type LiveInstance, StartFailure } from './instance.js';
import { MAX_CALL_DEPTH, METER_VERSION } from './limits.js';
import { type CallStatus, type CallTask, emptyReceipt, type Receipt } from './receipt.js';
import type { InstanceCommit, StateReader } from './state.js';
import type { InstanceMeta } from './records.js';

/** What a batch produced. */
export interface BatchResult {
  /** One per call, in order. */
  receipts: Receipt[];
  /** One per instance that changed, for the coordinator to commit. */
  commits: InstanceCommit[];
}

/**
 * The reads an Executor makes: a worker's StateReader (LMDB, read-only), or an in-memory map
 * (bench/contracts.ts runs the executor on the main thread that way).
 */
export type StateSource = Pick<StateReader, 'refresh' | 'code' | 'instance' | 'view'>;

/** An instance's progress through one batch. */
interface Chain {
  meta: InstanceMeta;
  baseVersion: number;
  version: number;
  stateHash: Uint8Array;
  /** Writes of the ok calls so far, by key (hex). */
  overlay: Map<string, StateWrite>;
}

/** Executes calls against one contract environment; one per worker thread. */
export class Executor {
  readonly cache: CodeSource;
  readonly #reader: StateSource;

  constructor(reader: StateSource, cache: CodeSource = new CodeCache()) {
    this.#reader = reader;
    this.cache = cache;
  }

  /** Runs `calls` in order. `fresh` makes every call use a new instance (for tests of reuse). */
  runBatch(calls: readonly CallTask[], fresh = false): BatchResult {
    this.#reader.refresh(); // the whole batch reads one snapshot: the committed state as it starts
    const chains = new Map<string, Chain | null>();
    const receipts = calls.map((call) => {
      const id = toHex(call.instance);
      if (call.readOnly) return this.#run(call, this.#chain(call.instance), fresh);
      if (!chains.has(id)) chains.set(id, this.#chain(call.instance));
      return this.#run(call, chains.get(id) ?? null, fresh);
    });
    const commits: InstanceCommit[] = [];
    for (const [id, c] of chains) {
      if (c === null || c.version === c.baseVersion) continue;
      commits.push({ instanceId: Buffer.from(id, 'hex'), baseVersion: c.baseVersion, version: c.version, stateHash: c.stateHash, writes: sortWrites([...c.overlay.values()]) });
    }
    return { receipts, commits };
  }

  #chain(instance: Uint8Array): Chain | null {
    const meta = this.#reader.instance(instance);
    if (meta === null) return null;
    return { meta, baseVersion: meta.version, version: meta.version, stateHash: meta.stateHash, overlay: new Map() };
  }

  #run(call: CallTask, chain: Chain | null, fresh: boolean): Receipt {
    if (chain === null) return emptyReceipt('not_found', 0, new Uint8Array(32), 0, 'no such instance');
    let code: ContractCode | null;
    try {
      code = this.cache.get(`${toHex(chain.meta.codeHash)}:${METER_VERSION}`, () => {
        const record = this.#reader.code(chain.meta.codeHash);
        return record !== null && record.meterVersion === METER_VERSION ? record : null;
      });
    } catch (err) {
      // Stored code V8 will not compile (it was validated at deploy, so the store is damaged).
      return emptyReceipt('not_found', chain.version, chain.stateHash, 0, `code does not compile: ${String(err)}`);
    }
    if (code === null) return emptyReceipt('not_found', chain.version, chain.stateHash, 0, 'code not deployed here');
    if (!code.methods.has(call.method)) return emptyReceipt('no_method', chain.version, chain.stateHash, 0, `no method ${call.method}`);
    const lookup = (key: Uint8Array): Uint8Array | null => {
      const own = call.readOnly ? undefined : chain.overlay.get(toHex(key));
      return own !== undefined ? own.value : this.#reader.view(call.instance, key);
    };
    const ctx = new CallContext(call.input, call.caller, lookup);
    const outcome = execute(code, ctx, call, fresh);
    if (outcome.status !== 'ok') return emptyReceipt(outcome.status, chain.version, chain.stateHash, outcome.gasUsed, outcome.error);
    const writes = sortWrites([...ctx.writes.values()]);
    const receipt: Receipt = { status: 'ok', gasUsed: outcome.gasUsed, returnData: ctx.output, events: ctx.events, writes, version: chain.version, stateHash: chain.stateHash };
    if (call.readOnly) return receipt;
    chain.version++;
    chain.stateHash = nextStateHash(chain.stateHash, chain.version, writes);
    for (const w of writes) chain.overlay.set(toHex(w.key), w);
    return { ...receipt, version: chain.version, stateHash: chain.stateHash };
  }
}

interface Outcome {
  status: CallStatus;
  gasUsed: number;
  error?: string;
}

/** One call on an instance of `code`: the status and the gas it used. */
function execute(code: ContractCode, ctx: CallContext, call: CallTask, fresh: boolean): Outcome {
  let inst: LiveInstance;
  try {
    inst = code.acquire(ctx, fresh);
  } catch (err) {
    if (err instanceof StartFailure) return { status: 'trap', gasUsed: 0, error: err.message };
    throw err;
  }
  const method = inst.method(call.method) as () => void;
  inst.gas.value = BigInt(call.gasLimit);
  let outcome: Outcome;
  let reusable = true;
  try {
    method();
    outcome = { status: 'ok', gasUsed: gasUsed(inst, call.gasLimit) };
  } catch (err) {
    outcome = classify(err, inst, call.gasLimit);
    // A host-stack overflow or an internal error leaves nothing we trust in the instance.
    reusable = err instanceof Revert || err instanceof OutOfGas || err instanceof HostTrap || err instanceof WebAssembly.RuntimeError;
  }
  if (reusable) code.release(inst);
  return outcome;
}

function gasUsed(inst: LiveInstance, limit: number): number {
  const left = inst.gas.value as bigint;
  return left <= 0n ? limit : limit - Number(left);
}

function classify(err: unknown, inst: LiveInstance, limit: number): Outcome {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Revert) return { status: 'revert', gasUsed: gasUsed(inst, limit), error: message };
  if (err instanceof OutOfGas) return { status: 'out_of_gas', gasUsed: limit };
  if (err instanceof HostTrap) return { status: 'trap', gasUsed: gasUsed(inst, limit), error: message };
  if (err instanceof WebAssembly.RuntimeError) {
    if ((inst.gas.value as bigint) < 0n) return { status: 'out_of_gas', gasUsed: limit };
    if ((inst.depth.value as number) > MAX_CALL_DEPTH) return { status: 'depth', gasUsed: gasUsed(inst, limit), error: `call depth over ${MAX_CALL_DEPTH}` };
    return { status: 'trap', gasUsed: gasUsed(inst, limit), error: message };
  }
  // V8's own stack limit (the meter's depth limit should always come first): not deterministic,
  // so it costs the whole limit.
  return { status: 'trap', gasUsed: limit, error: `host error: ${message}` };
}
