/**
 * A lean Groth16 verifier for BN254 (the equation of Groth 2016 §3.2, as snarkjs checks it) on a
 * single-threaded curve, with the verification key prepared once. Stricter than
 * `snarkjs.groth16.verify`: coordinates must be canonical (< q), B must lie in the order-r subgroup
 * of G2, and the public signals must be exactly nPublic bigints in [0, r). It returns a value for
 * every input and never throws: hostile bytes are an expected outcome, counted by reason.
 */
import type { Bn128Curve, CurveElement } from 'ffjavascript';
import { loadVerificationKey, type VerificationKey } from './artifacts.js';
import type { CircuitName } from './circuits.js';
import { singleThreadCurve } from './curve.js';
import { FIELD_MODULUS } from './field.js';
import { decodeProof, PROOF_BYTES, type ProofPoints } from './proof.js';

/** Why a verification ended as it did; `valid` is the only accepting outcome. */
export type VerifyOutcome =
  | 'valid'
  | 'bad_length' // the proof is not a Uint8Array of exactly 256 bytes
  | 'bad_public_count' // not an array of exactly nPublic signals
  | 'bad_public_value' // a signal that is not a bigint in [0, r)
  | 'non_canonical' // a coordinate ≥ q
  | 'infinity' // A, B or C is the point at infinity
  | 'not_on_curve' // A, B or C does not satisfy its curve equation
  | 'not_in_subgroup' // B is on the twist but outside the order-r subgroup
  | 'pairing_failed' // well-formed, but the Groth16 equation does not hold
  | 'error'; // the curve library threw (never seen; counted so it cannot hide)

/** Every outcome, for counters. */
export const VERIFY_OUTCOMES: readonly VerifyOutcome[] = [
  'valid', 'bad_length', 'bad_public_count', 'bad_public_value', 'non_canonical', 'infinity', 'not_on_curve',
  'not_in_subgroup', 'pairing_failed', 'error',
];

const le32 = (x: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  }
  return out;
};

/** A verifier for one verification key. Create with `Groth16Verifier.create(vkey)`. */
export class Groth16Verifier {
  /** Number of public signals the key expects. */
  readonly nPublic: number;
  readonly #curve: Bn128Curve;
  readonly #ic: CurveElement[];
  readonly #preGamma: CurveElement;
  readonly #preDelta: CurveElement;
  /** e(α, β)^-1, so the check is one product of three Miller loops and one final exponentiation. */
  readonly #alphaBetaInv: CurveElement;
  readonly #rLE: Uint8Array;
  readonly #counts = new Map<VerifyOutcome, number>(VERIFY_OUTCOMES.map((o) => [o, 0]));

  private constructor(curve: Bn128Curve, vk: VerificationKey) {
    const { G1, G2 } = curve;
    const g2 = (p: readonly (readonly string[])[]): CurveElement => G2.fromObject(p.slice(0, 2).map((c) => c.map(BigInt)));
    const g1 = (p: readonly string[]): CurveElement => G1.fromObject(p.slice(0, 2).map(BigInt));
    this.nPublic = vk.nPublic;
    this.#curve = curve;
    this.#ic = vk.IC.map(g1);
    this.#preGamma = curve.prepareG2(G2.toJacobian(g2(vk.vk_gamma_2)));
    this.#preDelta = curve.prepareG2(G2.toJacobian(g2(vk.vk_delta_2)));
    this.#alphaBetaInv = curve.Gt.inv(curve.pairing(g1(vk.vk_alpha_1), g2(vk.vk_beta_2)));
    this.#rLE = le32(curve.r);
  }

  /** A verifier for `vk` on this thread's single-threaded curve (about 200 ms, once). */
  static async create(vk: VerificationKey): Promise<Groth16Verifier> {
    if (vk.IC.length !== vk.nPublic + 1) throw new RangeError('vk.IC must hold nPublic + 1 points');
    return new Groth16Verifier(await singleThreadCurve(), vk);
  }

  /** A verifier for a circuit's committed verification key (`src/zk/keys/<name>.vkey.json`). */
  static forCircuit(name: CircuitName, keysDir?: string): Promise<Groth16Verifier> {
    return Groth16Verifier.create(loadVerificationKey(name, keysDir));
  }

  /** True only for a valid proof of `publicSignals`; see `check` for the reasons. */
  verify(publicSignals: readonly unknown[], proof: unknown): boolean {
    return this.check(publicSignals, proof) === 'valid';
  }

  /** The outcome of verifying `proof` (256 bytes) against `publicSignals` (built by the caller). */
  check(publicSignals: readonly unknown[], proof: unknown): VerifyOutcome {
    const outcome = this.#check(publicSignals, proof);
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1);
    return outcome;
  }

  /** Verifications so far, by outcome. */
  counts(): Record<VerifyOutcome, number> {
    return Object.fromEntries(this.#counts) as Record<VerifyOutcome, number>;
  }

  #check(publicSignals: readonly unknown[], proof: unknown): VerifyOutcome {
    // Cheap checks first, all before any curve arithmetic.
    if (!(proof instanceof Uint8Array) || proof.byteLength !== PROOF_BYTES) return 'bad_length';
    if (!Array.isArray(publicSignals) || publicSignals.length !== this.nPublic) return 'bad_public_count';
    if (!publicSignals.every((s) => typeof s === 'bigint' && s >= 0n && s < FIELD_MODULUS)) return 'bad_public_value';
    const points = decodeProof(proof);
    if (points === null) return 'non_canonical';
    try {
      return this.#curveChecks(publicSignals as readonly bigint[], points);
    } catch {
      return 'error'; // counted by check(); no hostile input reached this in testing
    }
  }

  #curveChecks(signals: readonly bigint[], p: ProofPoints): VerifyOutcome {
    const { G1, G2, Gt } = this.#curve;
    const c = this.#curve;
    const a = G1.fromObject(p.a);
    const b = G2.fromObject(p.b);
    const cc = G1.fromObject(p.c);
    if (G1.isZero(a) || G2.isZero(b) || G1.isZero(cc)) return 'infinity';
    if (!G1.isValid(a) || !G2.isValid(b) || !G1.isValid(cc)) return 'not_on_curve';
    // G1 has cofactor 1, so on the curve means in the group; the G2 twist does not (about 1 ms).
    if (!G2.isZero(G2.timesScalar(b, this.#rLE))) return 'not_in_subgroup';
    let vkx = this.#ic[0]!;
    signals.forEach((s, i) => {
      vkx = G1.add(vkx, G1.timesScalar(this.#ic[i + 1]!, le32(s)));
    });
    const ml = (g1: CurveElement, preG2: CurveElement): CurveElement => c.millerLoop(c.prepareG1(G1.toJacobian(g1)), preG2);
    // e(-A, B) · e(vk_x, γ) · e(C, δ) == e(α, β)^-1  ⇔  e(A, B) == e(α, β) · e(vk_x, γ) · e(C, δ)
    const f = Gt.mul(Gt.mul(ml(G1.neg(a), c.prepareG2(G2.toJacobian(b))), ml(vkx, this.#preGamma)), ml(cc, this.#preDelta));
    return Gt.eq(c.finalExponentiation(f), this.#alphaBetaInv) ? 'valid' : 'pairing_failed';
  }
}
