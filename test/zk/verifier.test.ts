/**
 * The lean verifier (src/zk/verifier.ts) against `snarkjs.groth16.verify` on the same proofs:
 * they agree on every case where snarkjs is sound, and ours is stricter where it is not
 * (non-canonical coordinates: snarkjs accepts; malformed signal lists: snarkjs throws). Also the
 * reasons counted per outcome, re-randomised proofs, and the single-thread verify time.
 */
import type { Bn128Curve, CurveElement } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { singleThreadCurve } from '../../src/zk/curve.js';
import {
  BASE_MODULUS, decodeProof, encodePoints, FIELD_MODULUS, Groth16Prover, Groth16Verifier, loadVerificationKey,
  pointsToSnarkjs, type ProofPoints, type VerificationKey, type VerifyOutcome, type ZkProof,
} from '../../src/zk/index.js';
import { report } from '../helpers/report.js';
import { percentile, validSignals } from './fixtures.js';

let curve: Bn128Curve;
let verifier: Groth16Verifier;
let vk: VerificationKey;
let good: ZkProof;
let points: ProofPoints;

beforeAll(async () => {
  good = await new Groth16Prover().prove('storage_access', validSignals().storage_access);
  curve = await singleThreadCurve();
  vk = loadVerificationKey('storage_access');
  verifier = await Groth16Verifier.create(vk);
  points = decodeProof(good.proof)!;
}, 60_000);

/** snarkjs's verdict on a proof object, or 'throws'. */
async function snarkjsOn(signals: readonly unknown[], proof: ReturnType<typeof pointsToSnarkjs>): Promise<boolean | 'throws'> {
  await singleThreadCurve();
  try {
    return await snarkjs.groth16.verify(vk, signals.map(String), proof);
  } catch {
    return 'throws'; // recorded as the outcome and asserted by the caller
  }
}

const g1Of = (p: CurveElement): [bigint, bigint] => {
  const o = curve.G1.toObject(curve.G1.toAffine(p));
  return [o[0]!, o[1]!];
};
const g2Of = (p: CurveElement): ProofPoints['b'] => {
  const o = curve.G2.toObject(curve.G2.toAffine(p));
  return [[o[0]![0]!, o[0]![1]!], [o[1]![0]!, o[1]![1]!]];
};

/** A point on the G2 twist outside the order-r subgroup: (x, sqrt(x³ + b')) without cofactor clearing. */
function twistPointOutsideSubgroup(): ProofPoints['b'] {
  interface F2 { fromObject(a: bigint[]): CurveElement; toObject(a: CurveElement): bigint[]; add(a: CurveElement, b: CurveElement): CurveElement; mul(a: CurveElement, b: CurveElement): CurveElement; square(a: CurveElement): CurveElement; isSquare(a: CurveElement): boolean; sqrt(a: CurveElement): CurveElement }
  const g2 = curve.G2 as unknown as { F: F2; b: CurveElement };
  const F = g2.F;
  for (let i = 1n; i < 100n; i++) {
    const x = F.fromObject([i, 1n]);
    const rhs = F.add(F.mul(F.square(x), x), g2.b);
    if (!F.isSquare(rhs)) continue; // checked first: ffjavascript's sqrt of a non-residue is unsafe
    const y = F.toObject(F.sqrt(rhs));
    const xo = F.toObject(x);
    return [[xo[0]!, xo[1]!], [y[0]!, y[1]!]];
  }
  throw new Error('no twist point found');
}

const inverseModR = (x: bigint): bigint => {
  let [a, b, u, v] = [x % FIELD_MODULUS, FIELD_MODULUS, 1n, 0n];
  while (a !== 1n) {
    const q = b / a;
    [a, b, u, v] = [b - q * a, a, v - q * u, u];
  }
  return ((u % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
};

describe('lean verifier vs snarkjs.groth16.verify', () => {
  interface Case { label: string; proof: ProofPoints; signals?: readonly bigint[]; ours: VerifyOutcome; snarkjs: boolean | 'throws' }

  it('agree on valid and invalid well-formed proofs', async () => {
    const s = good.publicSignals;
    const { G1, G2 } = curve;
    const gen1 = g1Of(G1.g);
    const cases: Case[] = [
      { label: 'the valid proof', proof: points, ours: 'valid', snarkjs: true },
      { label: '-A (on the curve, wrong)', proof: { ...points, a: [points.a[0], BASE_MODULUS - points.a[1]] }, ours: 'pairing_failed', snarkjs: false },
      { label: 'A.x + 1 (off the curve)', proof: { ...points, a: [points.a[0] + 1n, points.a[1]] }, ours: 'not_on_curve', snarkjs: false },
      { label: 'C = generator', proof: { ...points, c: gen1 }, ours: 'pairing_failed', snarkjs: false },
      { label: 'A and C swapped', proof: { ...points, a: points.c, c: points.a }, ours: 'pairing_failed', snarkjs: false },
      { label: 'B = G2 generator', proof: { ...points, b: g2Of(G2.g) }, ours: 'pairing_failed', snarkjs: false },
      { label: 'B.y off the twist', proof: { ...points, b: [points.b[0], [points.b[1][0] + 1n, points.b[1][1]]] }, ours: 'not_on_curve', snarkjs: false },
      { label: 'B on the twist, outside the subgroup', proof: { ...points, b: twistPointOutsideSubgroup() }, ours: 'not_in_subgroup', snarkjs: false },
      { label: 'C = infinity (0, 0)', proof: { ...points, c: [0n, 0n] }, ours: 'infinity', snarkjs: false },
      { label: 'all zero', proof: { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n] }, ours: 'infinity', snarkjs: false },
      { label: 'small canonical coordinates', proof: { a: [1n, 2n], b: [[1n, 2n], [3n, 4n]], c: [5n, 6n] }, ours: 'not_on_curve', snarkjs: false },
      { label: 'nonce + 1', proof: points, signals: [s[0]!, s[1]!, s[2]! + 1n, s[3]!], ours: 'pairing_failed', snarkjs: false },
      { label: 'signals in another order', proof: points, signals: [s[1]!, s[0]!, s[2]!, s[3]!], ours: 'pairing_failed', snarkjs: false },
      { label: 'nonce + r (aliases nonce mod r)', proof: points, signals: [s[0]!, s[1]!, s[2]! + FIELD_MODULUS, s[3]!], ours: 'bad_public_value', snarkjs: false },
      { label: 'a signal equal to r', proof: points, signals: [FIELD_MODULUS, s[1]!, s[2]!, s[3]!], ours: 'bad_public_value', snarkjs: false },
      { label: '3 signals', proof: points, signals: s.slice(0, 3), ours: 'bad_public_count', snarkjs: false },
    ];
    for (const c of cases) {
      const signals = c.signals ?? s;
      expect(verifier.check(signals, encodePoints(c.proof)), c.label).toBe(c.ours);
      expect(await snarkjsOn(signals, pointsToSnarkjs(c.proof)), `snarkjs: ${c.label}`).toBe(c.snarkjs);
    }
  });

  it('is stricter where snarkjs is not sound: non-canonical coordinates and malformed signal lists', async () => {
    const s = good.publicSignals;
    // A.x + q: snarkjs reduces mod q and accepts a second encoding of the same proof (malleable).
    const nonCanonical = pointsToSnarkjs(points);
    nonCanonical.pi_a[0] = (points.a[0] + BASE_MODULUS).toString();
    expect(await snarkjsOn(s, nonCanonical)).toBe(true);
    const bytes = encodePoints(points);
    bytes.set(Buffer.from((points.a[0] + BASE_MODULUS).toString(16).padStart(64, '0'), 'hex'), 0);
    expect(verifier.check(s, bytes)).toBe('non_canonical');
    // 5 signals: snarkjs throws; ours answers.
    expect(await snarkjsOn([...s, 1n], pointsToSnarkjs(points))).toBe('throws');
    expect(verifier.check([...s, 1n], good.proof)).toBe('bad_public_count');
  });

  it('accepts a re-randomised proof (so proof bytes are never a replay or dedupe key)', async () => {
    const { G1, G2 } = curve;
    const rho = 123456789n;
    const a = G1.timesScalar(G1.fromObject(points.a), inverseModR(rho));
    const b = G2.timesScalar(G2.fromObject(points.b), rho);
    const other: ProofPoints = { a: g1Of(a), b: g2Of(b), c: points.c };
    const bytes = encodePoints(other);
    expect(Buffer.from(bytes).equals(Buffer.from(good.proof))).toBe(false);
    expect(verifier.check(good.publicSignals, bytes)).toBe('valid');
    expect(await snarkjsOn(good.publicSignals, pointsToSnarkjs(other))).toBe(true);
  });
});

describe('lean verifier on hostile input', () => {
  it('answers every malformed input without throwing and counts it by reason', async () => {
    const v = await Groth16Verifier.create(vk);
    const s = good.publicSignals;
    const inputs: Array<[readonly unknown[], unknown, VerifyOutcome]> = [
      [s, good.proof.subarray(1), 'bad_length'],
      [s, new Uint8Array(257), 'bad_length'],
      [s, new Uint8Array(1 << 20), 'bad_length'],
      [s, null, 'bad_length'],
      [s, Array.from(good.proof), 'bad_length'],
      [s, pointsToSnarkjs(points), 'bad_length'],
      [null as unknown as unknown[], good.proof, 'bad_public_count'],
      [new Array(100_000).fill(1n), good.proof, 'bad_public_count'],
      [s.map(String), good.proof, 'bad_public_value'],
      [[s[0], s[1], -1n, s[3]], good.proof, 'bad_public_value'],
      [[s[0], s[1], 7, s[3]], good.proof, 'bad_public_value'],
      [[s[0], s[1], 2n ** 256n, s[3]], good.proof, 'bad_public_value'],
      [s, new Uint8Array(256).fill(0xff), 'non_canonical'],
      [s, good.proof, 'valid'],
    ];
    for (const [signals, proof, outcome] of inputs) expect(v.check(signals, proof)).toBe(outcome);
    const counts = v.counts();
    expect(counts).toMatchObject({ bad_length: 6, bad_public_count: 2, bad_public_value: 4, non_canonical: 1, valid: 1, error: 0 });
  });
});

describe('verify time, one thread', () => {
  it('reports ms per verification for our verifier and for snarkjs.groth16.verify', async () => {
    const ours: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      expect(verifier.verify(good.publicSignals, good.proof)).toBe(true);
      ours.push(performance.now() - t);
    }
    const theirs: number[] = [];
    const proof = pointsToSnarkjs(points);
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      expect(await snarkjsOn(good.publicSignals, proof)).toBe(true);
      theirs.push(performance.now() - t);
    }
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    report({ test: 'zk', figure: 'verify_ms_p50_lean_single_thread', value: r2(percentile(ours, 50)) });
    report({ test: 'zk', figure: 'verify_ms_p99_lean_single_thread', value: r2(percentile(ours, 99)) });
    report({ test: 'zk', figure: 'verify_ms_p50_snarkjs_single_thread', value: r2(percentile(theirs, 50)) });
  });
});
