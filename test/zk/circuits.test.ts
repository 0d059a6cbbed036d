/**
 * Every circuit with the committed keys: prove → verify round trips (our verifier and snarkjs agree),
 * signals that do not satisfy the circuit (the prover must fail), and proofs checked against
 * altered public signals or another circuit's key (verification must fail).
 */
import * as snarkjs from 'snarkjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { singleThreadCurve } from '../../src/zk/curve.js';
import {
  CIRCUIT_NAMES, type CircuitName, type CircuitSignals, decodeProof, FIELD_MODULUS, Groth16Prover, Groth16Verifier,
  identityCommitment, loadVerificationKey, pointsToSnarkjs, rangeCommitment, type ZkProof,
} from '../../src/zk/index.js';
import { publicOf, validSignals } from './fixtures.js';

const prover = new Groth16Prover();
const verifiers = new Map<CircuitName, Groth16Verifier>();
const proofs = new Map<CircuitName, ZkProof>();
const signals = validSignals();

/** snarkjs's own verdict on a wire proof (null when the bytes do not decode). */
async function snarkjsVerify(circuit: CircuitName, publicSignals: readonly bigint[], proof: Uint8Array): Promise<boolean | null> {
  const points = decodeProof(proof);
  if (points === null) return null;
  await singleThreadCurve(); // keep snarkjs on the single-threaded curve
  return snarkjs.groth16.verify(loadVerificationKey(circuit), publicSignals.map(String), pointsToSnarkjs(points));
}

beforeAll(async () => {
  for (const name of CIRCUIT_NAMES) {
    verifiers.set(name, await Groth16Verifier.forCircuit(name));
    proofs.set(name, await prover.prove(name, signals[name] as never));
  }
}, 60_000);

describe('prove → verify', () => {
  it.each(CIRCUIT_NAMES)('%s: the proof verifies with our verifier and with snarkjs', async (name) => {
    const p = proofs.get(name)!;
    expect(p.proof.byteLength).toBe(256);
    expect(p.publicSignals).toEqual(publicOf(name, signals[name] as never));
    expect(verifiers.get(name)!.check(p.publicSignals, p.proof)).toBe('valid');
    expect(await snarkjsVerify(name, p.publicSignals, p.proof)).toBe(true);
  });

  it('range: accepts value = min and value = max = 2^64 - 1', async () => {
    const max = 2n ** 64n - 1n;
    for (const [value, min] of [[1_000n, 1_000n], [max, 0n]] as const) {
      const s: CircuitSignals['range'] = { commitment: rangeCommitment(value, 5n), min, max, value, salt: 5n };
      const p = await prover.prove('range', s);
      expect(verifiers.get('range')!.verify(p.publicSignals, p.proof), `value ${value}`).toBe(true);
    }
  }, 30_000);
});

describe('signals that do not satisfy the circuit: the prover fails', () => {
  const s = signals;
  const notMember = { ...s.identity, identitySecret: s.identity.identitySecret + 1n };
  const cases: Array<[string, CircuitName, unknown]> = [
    ['storage_access: wrong secret', 'storage_access', { ...s.storage_access, secret: s.storage_access.secret + 1n }],
    ['storage_access: wrong salt', 'storage_access', { ...s.storage_access, salt: 1n }],
    ['data_integrity: another value under the commitment', 'data_integrity', { ...s.data_integrity, valueHash: s.data_integrity.valueHash + 1n }],
    ['identity: secret whose commitment is not in the tree', 'identity', notMember],
    ['identity: a tampered sibling', 'identity', { ...s.identity, pathElements: s.identity.pathElements.map((e, i) => (i === 3 ? e + 1n : e)) }],
    ['identity: a path index that is not a bit', 'identity', { ...s.identity, pathIndices: s.identity.pathIndices.map((b, i) => (i === 0 ? 2 : b)) }],
    ['identity: another root', 'identity', { ...s.identity, root: identityCommitment(3n) }],
    ['range: value above max', 'range', { ...s.range, max: 999n }],
    ['range: value below min', 'range', { ...s.range, min: 1_001n }],
    ['range: min above max', 'range', { ...s.range, min: 2_000n, max: 1_500n }],
    ['range: value of 2^64 (65 bits)', 'range', { commitment: rangeCommitment(2n ** 64n, 1n), min: 0n, max: 2n ** 64n - 1n, value: 2n ** 64n, salt: 1n }],
    ['range: max of 2^64', 'range', { ...s.range, max: 2n ** 64n }],
  ];

  it.each(cases)('%s', async (_label, circuit, bad) => {
    // circom's witness calculator prints "ERROR: 4 ..." on a failed assertion; keep it out of the log.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const err: unknown = await prover.prove(circuit, bad as never).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toContain(`signals do not satisfy the ${circuit} circuit`);
      expect((err as Error).message).toContain('Assert Failed');
      expect(printed).toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  }, 30_000);

  it('refuses signals that are not field elements or a nonce of 2^64 before proving, naming the signal', async () => {
    await expect(prover.prove('storage_access', { ...s.storage_access, salt: FIELD_MODULUS })).rejects.toThrow('signals.salt must be a bigint field element');
    await expect(prover.prove('storage_access', { ...s.storage_access, nonce: 2n ** 64n })).rejects.toThrow('signals.nonce must be below 2^64');
    await expect(prover.prove('identity', { ...s.identity, pathElements: [1n] })).rejects.toThrow('signals.pathElements must hold 16 elements');
  });
});

describe('altered public signals: verification fails', () => {
  it.each(CIRCUIT_NAMES)('%s: each public signal + 1 is rejected by both verifiers', async (name) => {
    const p = proofs.get(name)!;
    for (let i = 0; i < p.publicSignals.length; i++) {
      const altered = p.publicSignals.map((x, j) => (j === i ? (x + 1n) % FIELD_MODULUS : x));
      expect(verifiers.get(name)!.check(altered, p.proof), `signal ${i}`).toBe('pairing_failed');
      expect(await snarkjsVerify(name, altered, p.proof), `snarkjs, signal ${i}`).toBe(false);
    }
  });

  it('a proof does not verify under another circuit\'s key with the same number of signals', () => {
    const access = proofs.get('storage_access')!;
    const identity = proofs.get('identity')!;
    expect(verifiers.get('identity')!.check(access.publicSignals, access.proof)).toBe('pairing_failed');
    expect(verifiers.get('storage_access')!.check(identity.publicSignals, identity.proof)).toBe('pairing_failed');
  });
});
