/**
 * The 256-byte proof encoding (src/zk/proof.ts): byte-identical to ffjavascript's uncompressed
 * points, round trips, and a decoder that returns null (never throws, never touches the curve)
 * for a wrong length or any coordinate ≥ q.
 */
import fc from 'fast-check';
import type { Bn128Curve } from 'ffjavascript';
import { beforeAll, describe, expect, it } from 'vitest';
import { singleThreadCurve } from '../../src/zk/curve.js';
import {
  BASE_MODULUS, decodeProof, encodePoints, encodeProof, PROOF_BYTES, pointsToSnarkjs, type ProofPoints,
} from '../../src/zk/index.js';

let curve: Bn128Curve;
beforeAll(async () => {
  curve = await singleThreadCurve();
});

/** Proof-shaped points k·G1, k·G2, (k+1)·G1 (not a valid proof; the encoding does not care). */
function pointsFor(k: bigint): ProofPoints {
  const { G1, G2 } = curve;
  const a = G1.toObject(G1.toAffine(G1.timesScalar(G1.g, k)));
  const b = G2.toObject(G2.toAffine(G2.timesScalar(G2.g, k)));
  const c = G1.toObject(G1.toAffine(G1.timesScalar(G1.g, k + 1n)));
  return { a: [a[0]!, a[1]!], b: [[b[0]![0]!, b[0]![1]!], [b[1]![0]!, b[1]![1]!]], c: [c[0]!, c[1]!] };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('proof encoding', () => {
  it('is A | B | C as ffjavascript writes uncompressed points (G2 imaginary part first)', () => {
    const { G1, G2 } = curve;
    for (const k of [1n, 2n, 12345n, 2n ** 200n + 7n]) {
      const p = pointsFor(k);
      const expected = new Uint8Array(PROOF_BYTES);
      G1.toRprUncompressed(expected, 0, G1.fromObject(p.a));
      G2.toRprUncompressed(expected, 64, G2.fromObject(p.b));
      G1.toRprUncompressed(expected, 192, G1.fromObject(p.c));
      expect(hex(encodePoints(p))).toBe(hex(expected));
      expect(hex(encodeProof(pointsToSnarkjs(p)))).toBe(hex(expected));
      expect(decodeProof(expected)).toEqual(p);
    }
  });

  it('round-trips any canonical coordinates', () => {
    const coord = fc.bigInt({ min: 0n, max: BASE_MODULUS - 1n });
    fc.assert(fc.property(fc.array(coord, { minLength: 8, maxLength: 8 }), (v) => {
      const p: ProofPoints = { a: [v[0]!, v[1]!], b: [[v[2]!, v[3]!], [v[4]!, v[5]!]], c: [v[6]!, v[7]!] };
      const bytes = encodePoints(p);
      expect(bytes.byteLength).toBe(PROOF_BYTES);
      expect(decodeProof(bytes)).toEqual(p);
    }), { numRuns: 200 });
  });

  it('refuses to encode non-affine points, infinity and coordinates ≥ q', () => {
    const snark = pointsToSnarkjs(pointsFor(3n));
    expect(() => encodeProof({ ...snark, pi_a: [...snark.pi_a.slice(0, 2), '2'] })).toThrow('affine');
    expect(() => encodeProof({ ...snark, pi_a: ['0', '1', '0'] })).toThrow('affine');
    expect(() => encodeProof({ ...snark, pi_c: ['x', '1', '1'] })).toThrow(TypeError);
    expect(() => encodeProof({ ...snark, pi_b: snark.pi_b.slice(0, 2) })).toThrow(TypeError);
    expect(() => encodePoints({ ...pointsFor(3n), a: [BASE_MODULUS, 1n] })).toThrow('[0, q)');
  });
});

describe('proof decoding', () => {
  it('returns null for every length but 256 and for non-byte input', () => {
    for (const n of [0, 1, 128, 255, 257, 512, 100_000]) expect(decodeProof(new Uint8Array(n)), `${n} bytes`).toBeNull();
    for (const x of [null, undefined, 'a'.repeat(256), Array.from({ length: 256 }, () => 0), {}, new ArrayBuffer(256)]) {
      expect(decodeProof(x)).toBeNull();
    }
  });

  it('returns null exactly when some coordinate is ≥ q (random bytes)', () => {
    let rejected = 0;
    fc.assert(fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), (bytes) => {
      const coords = Array.from({ length: 8 }, (_, i) => BigInt(`0x${hex(bytes.subarray(i * 32, i * 32 + 32))}`));
      const canonical = coords.every((c) => c < BASE_MODULUS);
      if (!canonical) rejected++;
      expect(decodeProof(bytes) === null).toBe(!canonical);
    }), { numRuns: 300 });
    expect(rejected).toBeGreaterThan(250); // a random coordinate is < q with probability ~0.19
  });

  it('rejects each coordinate set to q or q + x, accepts q - 1', () => {
    const good = encodePoints(pointsFor(5n));
    for (let i = 0; i < 8; i++) {
      for (const [value, ok] of [[BASE_MODULUS, false], [BASE_MODULUS + 12345n, false], [2n ** 256n - 1n, false], [BASE_MODULUS - 1n, true]] as const) {
        const bytes = good.slice();
        bytes.set(Buffer.from(value.toString(16).padStart(64, '0'), 'hex'), i * 32);
        expect(decodeProof(bytes) !== null, `coordinate ${i} = ${value}`).toBe(ok);
      }
    }
  });

  it('reads a view at an offset of a larger buffer', () => {
    const good = encodePoints(pointsFor(9n));
    const big = new Uint8Array(300);
    big.set(good, 17);
    expect(decodeProof(big.subarray(17, 17 + PROOF_BYTES))).toEqual(decodeProof(good));
  });
});
