/**
 * The wire form of a Groth16 proof on BN254: 256 bytes, A | B | C uncompressed, every coordinate
 * 32 bytes big-endian; G2 coordinates in F_q^2 are written imaginary part first (c1 ‖ c0), the
 * order of EIP-197 and of ffjavascript's `toRprUncompressed`. Decoding is plain BigInt work with
 * every check made before any curve arithmetic: exact length and each coordinate below q. There is
 * no compressed form: decompressing untrusted points in ffjavascript can loop forever
 * (notes/zk-groth16.md §5).
 */
import type { Groth16Proof } from 'snarkjs';
import { BASE_MODULUS } from './field.js';

/** Size of an encoded proof: 2 G1 points (64 B each) and 1 G2 point (128 B). */
export const PROOF_BYTES = 256;
const COORD = 32;

/** An element of F_q^2 as [c0, c1] (real part first, as snarkjs writes it). */
export type Fq2 = readonly [bigint, bigint];

/** The affine points of a proof; every coordinate is canonical (in [0, q)). Curve checks are the verifier's. */
export interface ProofPoints {
  readonly a: readonly [bigint, bigint];
  readonly b: readonly [Fq2, Fq2];
  readonly c: readonly [bigint, bigint];
}

/** The 8 coordinates in wire order. */
function wireOrder(p: ProofPoints): bigint[] {
  const [bx, by] = p.b;
  return [p.a[0], p.a[1], bx[1], bx[0], by[1], by[0], p.c[0], p.c[1]];
}

/** Encodes affine points (coordinates must be in [0, q)). */
export function encodePoints(p: ProofPoints): Uint8Array {
  const out = new Uint8Array(PROOF_BYTES);
  wireOrder(p).forEach((v, i) => {
    if (typeof v !== 'bigint' || v < 0n || v >= BASE_MODULUS) throw new RangeError('proof coordinates must be in [0, q)');
    out.set(Buffer.from(v.toString(16).padStart(2 * COORD, '0'), 'hex'), i * COORD);
  });
  return out;
}

/**
 * Encodes the proof object of `snarkjs.groth16.fullProve` / `prove`. Its points are affine
 * (z = 1); a point at infinity cannot occur in an honest proof and is refused.
 */
export function encodeProof(proof: Groth16Proof): Uint8Array {
  const num = (s: unknown): bigint => {
    if (typeof s !== 'string' || !/^[0-9]{1,78}$/.test(s)) throw new TypeError('proof coordinates must be decimal strings');
    return BigInt(s);
  };
  const pa = proof.pi_a;
  const pb = proof.pi_b;
  const pc = proof.pi_c;
  if (!Array.isArray(pa) || !Array.isArray(pb) || !Array.isArray(pc) || pa.length !== 3 || pc.length !== 3 || pb.length !== 3) {
    throw new TypeError('proof must have pi_a, pi_b and pi_c in projective form');
  }
  const [bx, by, bz] = pb;
  if (!Array.isArray(bx) || !Array.isArray(by) || !Array.isArray(bz)) throw new TypeError('pi_b must hold three F_q^2 elements');
  if (num(pa[2]) !== 1n || num(pc[2]) !== 1n || num(bz[0]) !== 1n || num(bz[1]) !== 0n) {
    throw new RangeError('proof points must be affine (z = 1), not at infinity');
  }
  return encodePoints({
    a: [num(pa[0]), num(pa[1])],
    b: [[num(bx[0]), num(bx[1])], [num(by[0]), num(by[1])]],
    c: [num(pc[0]), num(pc[1])],
  });
}

/**
 * Decodes the 256-byte wire form. Returns null, never throws, when `bytes` is not a Uint8Array of
 * exactly 256 bytes or when any coordinate is ≥ q (a non-canonical encoding: snarkjs would reduce
 * it mod q and accept, which makes proofs malleable).
 */
export function decodeProof(bytes: unknown): ProofPoints | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== PROOF_BYTES) return null;
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, PROOF_BYTES).toString('hex');
  const v: bigint[] = [];
  for (let i = 0; i < 8; i++) {
    const x = BigInt(`0x${hex.slice(i * 2 * COORD, (i + 1) * 2 * COORD)}`);
    if (x >= BASE_MODULUS) return null;
    v.push(x);
  }
  const [ax, ay, bx1, bx0, by1, by0, cx, cy] = v as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  return { a: [ax, ay], b: [[bx0, bx1], [by0, by1]], c: [cx, cy] };
}

/** The snarkjs proof object of decoded points (for `snarkjs.groth16.verify` and JSON export). */
export function pointsToSnarkjs(p: ProofPoints): Groth16Proof {
  const s = (x: bigint): string => x.toString(10);
  return {
    pi_a: [s(p.a[0]), s(p.a[1]), '1'],
    pi_b: [[s(p.b[0][0]), s(p.b[0][1])], [s(p.b[1][0]), s(p.b[1][1])], ['1', '0']],
    pi_c: [s(p.c[0]), s(p.c[1]), '1'],
    protocol: 'groth16',
    curve: 'bn128',
  };
}
