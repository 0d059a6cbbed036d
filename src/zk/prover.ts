/**
 * Groth16 proving for the four circuits: witness generation (circom's wasm) and the proof
 * (snarkjs `groth16.fullProve`), on this thread's single-threaded curve. Inputs are typed bigint
 * signals; the result is the 256-byte wire proof and the public signals in circuit order.
 */
import * as snarkjs from 'snarkjs';
import { loadProvingArtifacts } from './artifacts.js';
import { type CircuitName, IDENTITY_TREE_DEPTH, PUBLIC_SIGNALS } from './circuits.js';
import { singleThreadCurve } from './curve.js';
import { isFieldElement, NONCE_LIMIT } from './field.js';
import { encodeProof } from './proof.js';

/** storage_access: knowledge of (secret, salt) behind commitment, bound to key, nonce and value. */
export interface StorageAccessSignals {
  commitment: bigint;
  keyField: bigint;
  nonce: bigint;
  valueHash: bigint;
  secret: bigint;
  salt: bigint;
}

/** data_integrity: valueHash opens the owner's commitment with a private salt. */
export interface DataIntegritySignals {
  commitment: bigint;
  valueHash: bigint;
  salt: bigint;
}

/** identity: Poseidon(identitySecret) is a leaf under root, bound to key, nonce and value. */
export interface IdentitySignals {
  root: bigint;
  keyField: bigint;
  nonce: bigint;
  valueHash: bigint;
  identitySecret: bigint;
  /** 16 siblings, leaf level first (PoseidonTree.path). */
  pathElements: readonly bigint[];
  /** 16 sides, 1 = the running node is the right child. */
  pathIndices: readonly number[];
}

/** range: the value behind commitment lies in [min, max] (all below 2^64). */
export interface RangeSignals {
  commitment: bigint;
  min: bigint;
  max: bigint;
  value: bigint;
  salt: bigint;
}

/** The signals of each circuit. */
export interface CircuitSignals {
  storage_access: StorageAccessSignals;
  data_integrity: DataIntegritySignals;
  identity: IdentitySignals;
  range: RangeSignals;
}

/** A proof in wire form with the public signals it proves, in circuit order. */
export interface ZkProof {
  readonly circuit: CircuitName;
  readonly proof: Uint8Array;
  readonly publicSignals: readonly bigint[];
}

/** snarkjs input: every field element as a decimal string; arrays as arrays. */
type WitnessInput = Record<string, string | string[]>;

/** Checks the shape and ranges of `signals`; RangeError / TypeError naming the signal. */
function witnessInput(circuit: CircuitName, signals: Record<string, unknown>): WitnessInput {
  const input: WitnessInput = {};
  for (const [name, v] of Object.entries(signals)) {
    if (Array.isArray(v)) {
      if (v.length !== IDENTITY_TREE_DEPTH) throw new RangeError(`signals.${name} must hold ${IDENTITY_TREE_DEPTH} elements`);
      input[name] = v.map((x, i) => fieldString(typeof x === 'number' ? BigInt(x) : x, `${name}[${i}]`));
    } else {
      input[name] = fieldString(v, name);
    }
  }
  if ('nonce' in signals && (signals.nonce as bigint) >= NONCE_LIMIT) throw new RangeError('signals.nonce must be below 2^64');
  for (const name of PUBLIC_SIGNALS[circuit]) {
    if (!(name in input)) throw new TypeError(`signals.${name} is missing for ${circuit}`);
  }
  return input;
}

function fieldString(v: unknown, name: string): string {
  if (!isFieldElement(v)) throw new RangeError(`signals.${name} must be a bigint field element in [0, r)`);
  return v.toString(10);
}

/**
 * Proves circuits from the committed keys (or those in `keysDir`); artifacts are read on first
 * use per circuit and kept. Not thread-safe across workers: make one per thread.
 */
export class Groth16Prover {
  readonly #keysDir: string | undefined;
  readonly #artifacts = new Map<CircuitName, { wasm: Uint8Array; zkey: Uint8Array }>();

  constructor(keysDir?: string) {
    this.#keysDir = keysDir;
  }

  /**
   * A proof of `signals` for `circuit`. Rejects with a RangeError when the signals do not satisfy
   * the circuit (a wrong secret, a value out of range): the witness generator refuses them.
   */
  async prove<C extends CircuitName>(circuit: C, signals: CircuitSignals[C]): Promise<ZkProof> {
    const input = witnessInput(circuit, signals as unknown as Record<string, unknown>);
    const { wasm, zkey } = this.#load(circuit);
    await singleThreadCurve();
    let result: Awaited<ReturnType<typeof snarkjs.groth16.fullProve>>;
    try {
      result = await snarkjs.groth16.fullProve(input, wasm, zkey);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/Assert Failed|Error in template|Not all inputs|Too many values/i.test(message)) {
        throw new RangeError(`signals do not satisfy the ${circuit} circuit: ${message.split('\n')[0]}`, { cause: err });
      }
      throw err;
    }
    const publicSignals = result.publicSignals.map((s) => BigInt(s));
    const expected = PUBLIC_SIGNALS[circuit].map((name) => (signals as unknown as Record<string, bigint>)[name]);
    if (publicSignals.length !== expected.length || publicSignals.some((s, i) => s !== expected[i])) {
      throw new Error(`${circuit}: the witness's public signals differ from the inputs (circuit and PUBLIC_SIGNALS disagree)`);
    }
    return { circuit, proof: encodeProof(result.proof), publicSignals };
  }

  #load(circuit: CircuitName): { wasm: Uint8Array; zkey: Uint8Array } {
    let a = this.#artifacts.get(circuit);
    if (a === undefined) {
      a = loadProvingArtifacts(circuit, this.#keysDir);
      this.#artifacts.set(circuit, a);
    }
    return a;
  }
}
