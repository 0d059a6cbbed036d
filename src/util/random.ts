/**
 * Randomness as an injected service. The real node draws from the OS CSPRNG; the simulator and
 * property tests use a seeded generator so a run replays exactly from its seed.
 */
import { randomBytes as osRandomBytes } from 'node:crypto';

/** A source of random bytes and numbers. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
  /** A uniform integer in [0, bound). */
  int(bound: number): number;
}

/** The OS CSPRNG. */
export const systemRandom: Random = {
  bytes: (n) => new Uint8Array(osRandomBytes(n)),
  int(bound) {
    if (!Number.isInteger(bound) || bound <= 0) throw new RangeError('bound must be a positive integer');
    return osRandomBytes(4).readUInt32LE(0) % bound;
  },
};

/**
 * xoshiro128** seeded through splitmix32: fast, small state, good enough for simulation.
 * Not for keys or tokens.
 */
export class SeededRandom implements Random {
  readonly #s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** The next 32-bit output. */
  next(): number {
    const s = this.#s;
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ s[2]!;
    s[0] = s0 ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let v = this.next();
      for (let j = i; j < Math.min(n, i + 4); j++) { out[j] = v & 0xff; v >>>= 8; }
    }
    return out;
  }

  int(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0) throw new RangeError('bound must be a positive integer');
    return this.next() % bound;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
