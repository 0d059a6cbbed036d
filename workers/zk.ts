/**
 * Piscina task module for the ZK pool (src/zk/pool.ts): Groth16 verification and proving on one
 * single-threaded BN254 curve per worker. Tasks: `zkVerify` (→ boolean), `zkCheck` (→ the
 * verifier's outcome, for the pool's counters) and `zkProve`. Verification never throws on hostile
 * input; anything that does throw makes `zkVerify` return false.
 */
// FIRST: must run before anything loads snarkjs or ffjavascript (notes/zk-groth16.md, P1).
import '../src/zk/worker-safe.js';
import type { CircuitName, CircuitSignals, Groth16Prover, Groth16Verifier, VerifyOutcome } from '../src/zk/index.js';

// Loaded only after the shim above has run; import() also keeps ES module hoisting from ever
// evaluating snarkjs before it.
const zk = await import('../src/zk/index.js');

/** Longest decimal string accepted as a signal: r has 77 digits. */
const MAX_SIGNAL_DIGITS = 78;

// Per-thread state: a worker serves one pool, and its verifiers and prover are the expensive
// part to build (prepared verification keys, loaded proving keys), so they live as long as it.
const verifiers = new Map<CircuitName, Promise<Groth16Verifier>>();
let prover: Groth16Prover | undefined;
/** zkVerify calls that threw (and so answered false); read with the zkStats task. */
let verifyThrows = 0;

function verifierFor(circuit: CircuitName): Promise<Groth16Verifier> {
  let v = verifiers.get(circuit);
  if (v === undefined) {
    v = zk.Groth16Verifier.forCircuit(circuit);
    verifiers.set(circuit, v);
    v.catch(() => verifiers.delete(circuit)); // a failed load is retried by the next task
  }
  return v;
}

/** Signals as bigints: bigint, or a canonical decimal string; null for anything else. */
function parseSignals(x: unknown, expected: number): bigint[] | null {
  if (!Array.isArray(x) || x.length !== expected) return null;
  const out: bigint[] = [];
  for (const s of x as unknown[]) {
    if (typeof s === 'bigint') out.push(s);
    else if (typeof s === 'string' && s.length <= MAX_SIGNAL_DIGITS && /^(0|[1-9][0-9]*)$/.test(s)) out.push(BigInt(s));
    else return null;
  }
  return out;
}

/** A verification task as the pool sends it. */
export interface VerifyTask {
  circuit: unknown;
  publicSignals: unknown;
  proof: unknown;
}

/** The verifier's outcome for one proof (`bad_public_value` also covers unknown circuits and unparsable signals). */
export async function zkCheck(task: VerifyTask): Promise<VerifyOutcome> {
  if (!zk.isCircuitName(task.circuit)) return 'bad_public_value';
  if (!(task.proof instanceof Uint8Array) || task.proof.byteLength !== zk.PROOF_BYTES) return 'bad_length';
  const expected = zk.PUBLIC_SIGNALS[task.circuit].length;
  if (!Array.isArray(task.publicSignals) || task.publicSignals.length !== expected) return 'bad_public_count';
  const signals = parseSignals(task.publicSignals, expected);
  if (signals === null) return 'bad_public_value';
  return (await verifierFor(task.circuit)).check(signals, task.proof);
}

/** True only for a valid proof; a throw anywhere counts as false. */
export async function zkVerify(task: VerifyTask): Promise<boolean> {
  try {
    return (await zkCheck(task)) === 'valid';
  } catch {
    verifyThrows++;
    return false;
  }
}

/** This worker's counters. */
export function zkStats(): { verifyThrows: number } {
  return { verifyThrows };
}

/** A proving task: the circuit and its typed signals. */
export interface ProveTask<C extends CircuitName = CircuitName> {
  circuit: C;
  signals: CircuitSignals[C];
}

/** A proof in wire form and its public signals; rejects (RangeError) when the signals do not satisfy the circuit. */
export async function zkProve(task: ProveTask): Promise<{ proof: Uint8Array; publicSignals: bigint[] }> {
  if (!zk.isCircuitName(task.circuit)) throw new TypeError('zkProve task needs a known circuit');
  prover ??= new zk.Groth16Prover();
  const result = await prover.prove(task.circuit, task.signals);
  return { proof: result.proof, publicSignals: [...result.publicSignals] };
}
