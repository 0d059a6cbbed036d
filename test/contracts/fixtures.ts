/**
 * Shared pieces of the contract tests: engines in temporary folders (all closed by `closeAll`),
 * hostile modules written in WAT and assembled by binaryen in the test process, account ids, and
 * an engine with the three examples deployed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContractEngine, type ContractEngineInit, type ExampleContract, exampleContract, type Receipt, type CallRequest,
} from '../../src/contracts/index.js';
import type { BinaryenApi } from '../../src/contracts/binaryen.js';

/** binaryen for assembling test modules (the node itself only loads it in the meter worker). */
export const binaryen = (await import('binaryen')).default as unknown as BinaryenApi & {
  parseText(text: string): { setFeatures(f: number): void; emitBinary(): Uint8Array; dispose(): void };
  Features: Record<string, number>;
};

/** Assembles a WAT module; `features` (binaryen's) lets it use SIMD, threads, ... */
export function wat(text: string, features = binaryen.Features.MutableGlobals! | binaryen.Features.BulkMemory! | binaryen.Features.SignExt!): Uint8Array {
  const m = binaryen.parseText(text);
  try {
    m.setFeatures(features);
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** A 32-byte account id filled with `n`. */
export const account = (n: number): Uint8Array => new Uint8Array(32).fill(n);
export const alice = account(0xa1);
export const bob = account(0xb0);

/** Engines on temporary folders, closed and removed together. */
export class EngineRegistry {
  readonly #open: Array<{ engine: ContractEngine; dir: string }> = [];

  /** A new engine (1 thread unless told) on a fresh folder. */
  open(init: Partial<ContractEngineInit> = {}): ContractEngine {
    const dir = init.path ?? mkdtempSync(join(tmpdir(), 'zhtp-contracts-'));
    let engine: ContractEngine;
    try {
      engine = ContractEngine.open({ threads: 1, ...init, path: dir });
    } catch (err) {
      if (init.path === undefined) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.#open.push({ engine, dir });
    return engine;
  }

  /** The folder of an engine this registry opened. */
  pathOf(engine: ContractEngine): string {
    const found = this.#open.find((e) => e.engine === engine);
    if (found === undefined) throw new Error('engine not opened by this registry');
    return found.dir;
  }

  async closeAll(): Promise<void> {
    const all = this.#open.splice(0);
    await Promise.all(all.map((e) => e.engine.close()));
    for (const e of all) rmSync(e.dir, { recursive: true, force: true });
  }
}

/** Deploys an example (or raw wasm) and creates one instance of it for `creator`. */
export async function instanceOf(engine: ContractEngine, code: ExampleContract | Uint8Array, creator = alice): Promise<Uint8Array> {
  const deployed = await engine.deploy(typeof code === 'string' ? exampleContract(code) : code);
  return (await engine.createInstance(deployed.codeHash, creator)).instanceId;
}

/** Runs a call and returns its receipt, failing the test with the receipt's error unless `status` matches. */
export async function expectStatus(p: Promise<Receipt>, status: Receipt['status']): Promise<Receipt> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.error ?? ''}`);
  return r;
}

/** A call request with defaults: no input, caller alice. */
export function req(instance: Uint8Array, method: string, input?: Uint8Array, extra: Partial<CallRequest> = {}): CallRequest {
  return { instance, method, caller: alice, ...(input === undefined ? {} : { input }), ...extra };
}

/** The ABI v1 imports, declared in WAT for hostile modules. */
export const ABI_IMPORTS = `
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "return_data" (func $return_data (param i32 i32)))
  (import "env" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "env" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i32)))
`;
