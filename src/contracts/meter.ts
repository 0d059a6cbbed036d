/**
 * The deterministic gas-metering pass (METER_VERSION 1) over binaryen IR, run once per module at
 * deploy, in the meter worker. It charges an i64 gas global at every function entry and every
 * loop-body entry with the number of IR nodes of that scope (if-arms above GAS.foldedArm charge
 * on their own entry), routes memory.grow/fill/copy through helpers that charge per call, per page
 * or per 64 bytes and cap memory, counts call depth, and makes the memory an import. The output is
 * byte-identical for the same input and binaryen version (pinned: 132.0.0). docs/contracts.md.
 */
import type { BinaryenApi, BinaryenModule, Ref } from './binaryen.js';
import { captureOutput } from './binaryen.js';
import { InvalidContractError, type ModuleFault } from './errors.js';
import { GAS, MAX_CALL_DEPTH, METER_VERSION } from './limits.js';
import { type ModuleFacts, readContract } from './validate.js';
import type { IrShapes, Slot } from './walk.js';

/** A metered module and what the runtime needs to instantiate it. */
export interface MeteredModule {
  meterVersion: number;
  /** The instrumented wasm: imports `env.memory` and `meter.gas_limit`, exports `__gas`, `__depth`, `__reset`. */
  code: Uint8Array;
  methods: string[];
  memory: { initial: number; maximum: number };
}

/** What the meter worker answers: the code hash and metered module, or the refusal. */
export type MeterOutcome =
  | { ok: true; codeHash: Uint8Array; module: MeteredModule }
  | { ok: false; fault: ModuleFault; message: string; poisoned: boolean };

/** Internal names the pass adds; a module already using the prefix is refused. */
const P = '__zhtp_';
const N = {
  gas: `${P}gas`, limit: `${P}gas_limit`, depth: `${P}depth`, fbody: `${P}fbody`,
  grow: `${P}grow`, fill: `${P}fill`, copy: `${P}copy`, start: `${P}start`, reset: `${P}reset`,
} as const;

/** Validates `bytes` (see validate.ts) and meters them. Throws InvalidContractError. */
export function meterContract(b: BinaryenApi, shapes: IrShapes, bytes: Uint8Array): MeteredModule {
  const { module, facts } = readContract(b, shapes, bytes);
  try {
    new Meter(b, shapes, module, facts).run();
    const { result: valid, output } = captureOutput(() => module.validate());
    if (!valid) throw new InvalidContractError('instrumentation', `metered module does not validate: ${output.slice(0, 200)}`);
    return { meterVersion: METER_VERSION, code: module.emitBinary(), methods: facts.methods, memory: facts.memory };
  } finally {
    module.dispose();
  }
}

class Meter {
  readonly #b: BinaryenApi;
  readonly #s: IrShapes;
  readonly #m: BinaryenModule;
  readonly #facts: ModuleFacts;
  /** Result globals by type, for functions whose result must outlive the depth decrement. */
  readonly #ret = new Map<number, string>();

  constructor(b: BinaryenApi, shapes: IrShapes, module: BinaryenModule, facts: ModuleFacts) {
    this.#b = b;
    this.#s = shapes;
    this.#m = module;
    this.#facts = facts;
  }

  run(): void {
    const b = this.#b;
    const m = this.#m;
    const mutableGlobals = this.#originalMutableGlobals();
    const functions: Ref[] = [];
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const f = m.getFunctionByIndex(i);
      const info = b.getFunctionInfo(f);
      if (info.name.startsWith(P)) throw new InvalidContractError('instrumentation', `function name ${info.name} is reserved`);
      if (info.module === '') functions.push(f);
    }
    m.addGlobalImport(N.limit, 'meter', 'gas_limit', b.i64, false);
    m.addGlobal(N.gas, b.i64, true, m.global.get(N.limit, b.i64));
    m.addGlobal(N.depth, b.i32, true, m.i32.const(0));
    for (const f of functions) this.#meterFunction(f);
    this.#addMemoryHelpers();
    this.#addStartAndReset(mutableGlobals);
    m.addGlobalExport(N.gas, '__gas');
    m.addGlobalExport(N.depth, '__depth');
    this.#importMemory();
  }

  #originalMutableGlobals(): Array<{ name: string; type: number }> {
    const out: Array<{ name: string; type: number }> = [];
    for (let i = 0; i < this.#m.getNumGlobals(); i++) {
      const g = this.#b.getGlobalInfo(this.#m.getGlobalByIndex(i));
      if (g.name.startsWith(P)) throw new InvalidContractError('instrumentation', `global name ${g.name} is reserved`);
      if (g.mutable) out.push({ name: g.name, type: g.type });
    }
    return out;
  }

  /** Charge at entry, count depth, and route every `return` through the depth decrement. */
  #meterFunction(f: Ref): void {
    const b = this.#b;
    const m = this.#m;
    const info = b.getFunctionInfo(f);
    let body = info.body;
    const cost = this.#visit({ get: () => body, set: (c) => { body = c; } });
    const depth = (delta: number): Ref => m.global.set(N.depth, (delta > 0 ? m.i32.add : m.i32.sub)(m.global.get(N.depth, b.i32), m.i32.const(1)));
    const enter = [
      this.#charge(m.i64.const(BigInt(cost))),
      depth(+1),
      m.if(m.i32.gt_u(m.global.get(N.depth, b.i32), m.i32.const(MAX_CALL_DEPTH)), m.unreachable()),
    ];
    const inner = m.block(N.fbody, [body], info.results);
    if (info.results === b.none) {
      b.Function.setBody(f, m.block(null, [...enter, inner, depth(-1)], b.none));
      return;
    }
    const ret = this.#resultGlobal(info.results);
    b.Function.setBody(f, m.block(null, [...enter, m.global.set(ret, inner), depth(-1), m.global.get(ret, info.results)], info.results));
  }

  #resultGlobal(type: number): string {
    let name = this.#ret.get(type);
    if (name === undefined) {
      name = `${P}ret_${this.#ret.size}`;
      this.#m.addGlobal(name, type, true, type === this.#b.i64 ? this.#m.i64.const(0n) : this.#m.i32.const(0));
      this.#ret.set(type, name);
    }
    return name;
  }

  /** Meters the subtree in `slot` and returns its cost, charged by the enclosing scope. */
  #visit(slot: Slot): number {
    const e = slot.get();
    if (this.#s.is(e, 'Loop')) return this.#loop(e);
    if (this.#s.is(e, 'If')) return this.#if(e);
    if (this.#s.is(e, 'Block') && (this.#b.Block as unknown as LabelApi).getName(e)?.startsWith(P)) {
      throw new InvalidContractError('instrumentation', 'block label uses the reserved prefix');
    }
    let cost = GAS.node;
    for (const child of this.#s.slots(e)) cost += this.#visit(child);
    this.#rewrite(slot, e);
    return cost;
  }

  /** A loop costs one node to its parent; its body charges its own cost on every iteration. */
  #loop(e: Ref): number {
    const { getBody, setBody, getName } = this.#b.Loop as unknown as LabelApi;
    if (getName(e)?.startsWith(P)) throw new InvalidContractError('instrumentation', 'loop label uses the reserved prefix');
    const slot: Slot = { get: () => getBody(e), set: (c) => setBody(e, c) };
    const cost = this.#visit(slot);
    slot.set(this.#charged(cost, slot.get()));
    return GAS.node;
  }

  /** Cheap arms are folded into the parent's cost; costlier ones charge on entry. */
  #if(e: Ref): number {
    const [condition, ...arms] = this.#s.slots(e);
    let cost = GAS.node + this.#visit(condition as Slot);
    for (const arm of arms) {
      const c = this.#visit(arm);
      if (c <= GAS.foldedArm) cost += c;
      else arm.set(this.#charged(c, arm.get()));
    }
    return cost;
  }

  /** Replaces `return` and the dynamic-cost memory instructions (children already metered). */
  #rewrite(slot: Slot, e: Ref): void {
    const s = this.#s;
    const m = this.#m;
    const kids = (): Ref[] => s.slots(e).map((c) => c.get());
    if (s.is(e, 'Return')) slot.set(m.br(N.fbody, 0, kids()[0] ?? 0));
    else if (s.is(e, 'MemoryGrow')) slot.set(m.call(N.grow, kids(), this.#b.i32));
    else if (s.is(e, 'MemoryFill')) slot.set(m.call(N.fill, kids(), this.#b.none));
    else if (s.is(e, 'MemoryCopy')) slot.set(m.call(N.copy, kids(), this.#b.none));
  }

  #charged(cost: number, expr: Ref): Ref {
    return this.#m.block(null, [this.#charge(this.#m.i64.const(BigInt(cost))), expr], this.#b.auto);
  }

  /** gas -= amount; trap (unreachable) when it goes below zero. The host reads `__gas` to tell why. */
  #charge(amount: Ref): Ref {
    const { i64, global } = this.#m;
    const gas = (): Ref => global.get(N.gas, this.#b.i64);
    return this.#m.block(null, [
      global.set(N.gas, i64.sub(gas(), amount)),
      this.#m.if(i64.lt_s(gas(), i64.const(0n)), this.#m.unreachable()),
    ], this.#b.none);
  }

  #addMemoryHelpers(): void {
    const b = this.#b;
    const m = this.#m;
    const mem = this.#facts.memoryName;
    const arg = (i: number): Ref => m.local.get(i, b.i32);
    const blocks = (n: Ref): Ref => m.i64.shr_u(m.i64.add(m.i64.extend_u(n), m.i64.const(63n)), m.i64.const(6n));
    const per = (count: Ref, cost: number): Ref => this.#charge(m.i64.mul(count, m.i64.const(BigInt(cost))));
    const room = m.i32.sub(m.i32.const(this.#facts.memory.maximum), m.memory.size(mem));
    m.addFunction(N.grow, b.i32, b.i32, [], m.block(null, [
      this.#charge(m.i64.const(BigInt(GAS.growCall))),
      m.if(m.i32.gt_u(arg(0), room), m.return(m.i32.const(-1))),
      per(m.i64.extend_u(arg(0)), GAS.growPage),
      m.memory.grow(arg(0), mem),
    ], b.i32));
    const three = b.createType([b.i32, b.i32, b.i32]);
    m.addFunction(N.fill, three, b.none, [], m.block(null, [per(blocks(arg(2)), GAS.memoryBlock), m.memory.fill(arg(0), arg(1), arg(2), mem)], b.none));
    m.addFunction(N.copy, three, b.none, [], m.block(null, [per(blocks(arg(2)), GAS.memoryBlock), m.memory.copy(arg(0), arg(1), arg(2), mem, mem)], b.none));
  }

  /**
   * A new start function runs the original one, then saves every mutable global into a shadow;
   * `__reset` restores them and zeroes the depth, so a reused instance starts each call exactly
   * as a fresh one (the host restores memory from its own snapshot).
   */
  #addStartAndReset(globals: Array<{ name: string; type: number }>): void {
    const b = this.#b;
    const m = this.#m;
    const save: Ref[] = [];
    const restore: Ref[] = [m.global.set(N.depth, m.i32.const(0))];
    globals.forEach((g, i) => {
      const shadow = `${P}shadow_${i}`;
      m.addGlobal(shadow, g.type, true, g.type === b.i64 ? m.i64.const(0n) : m.i32.const(0));
      save.push(m.global.set(shadow, m.global.get(g.name, g.type)));
      restore.push(m.global.set(g.name, m.global.get(shadow, g.type)));
    });
    const original = m.getStart();
    const start = original === 0 ? [] : [m.call(b.getFunctionInfo(original).name, [], b.none)];
    m.setStart(m.addFunction(N.start, b.none, b.none, [], m.block(null, [...start, ...save, m.nop()], b.none)));
    m.addFunction(N.reset, b.none, b.none, [], m.block(null, restore, b.none));
    m.addFunctionExport(N.reset, '__reset');
  }

  /** The memory becomes the import `env.memory` with the module's cap (≤ MAX_MEMORY_PAGES). */
  #importMemory(): void {
    const m = this.#m;
    const segments = [];
    for (let i = 0; i < m.getNumDataSegments(); i++) {
      const s = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
      segments.push({ name: s.name, offset: m.i32.const(s.offset), data: new Uint8Array(s.data), passive: false });
    }
    const { initial, maximum } = this.#facts.memory;
    m.setMemory(initial, maximum, null, segments, false, false, this.#facts.memoryName);
    m.addMemoryImport(this.#facts.memoryName, 'env', 'memory', false);
  }
}

/** The accessors of labelled expressions (Block, Loop) that the pass uses. */
interface LabelApi {
  getBody(e: Ref): Ref;
  setBody(e: Ref, body: Ref): void;
  getName(e: Ref): string | null;
}
