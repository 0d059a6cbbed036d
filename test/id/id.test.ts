import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commonPrefixLength, compareDistance, compareIds, distance, type Id, idFromHex, idToHex, keyFromContent,
  randomIdInBucket, sharedPrefixRange, toId,
} from '../../src/id/index.js';
import { SeededRandom } from '../../src/util/index.js';

const id = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => b as Id);

interface Vector { input_utf8?: string; length?: number; key_hex: string }

function loadVectors(): Vector[] {
  const file = join(import.meta.dirname, '../vectors/content-keys.json');
  const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };
  return vectors;
}

describe('content keys (BLAKE3)', () => {
  it('match the golden vectors, and the loader ran them all', () => {
    let ran = 0;
    for (const v of loadVectors()) {
      const input = v.input_utf8 !== undefined
        ? new TextEncoder().encode(v.input_utf8)
        : Uint8Array.from({ length: v.length! }, (_, i) => i % 251);
      expect(idToHex(keyFromContent(input))).toBe(v.key_hex);
      ran++;
    }
    expect(ran).toBe(6);
  });
});

describe('XOR metric', () => {
  it('distance is symmetric, zero only to itself, and obeys the XOR triangle identity', () => {
    fc.assert(fc.property(id, id, id, (a, b, c) => {
      expect(distance(a, b)).toEqual(distance(b, a));
      expect(distance(a, a).every((x) => x === 0)).toBe(true);
      // d(a,c) = d(a,b) xor d(b,c): the XOR metric's defining property.
      const ab = distance(a, b);
      const bc = distance(b, c);
      expect(distance(a, c)).toEqual(ab.map((x, i) => x ^ bc[i]!));
    }), { numRuns: 500 });
  });

  it('compareDistance orders by XOR distance and agrees with comparing distances', () => {
    fc.assert(fc.property(id, id, id, (t, a, b) => {
      const byDistance = compareIds(distance(t, a) as Id, distance(t, b) as Id);
      expect(Math.sign(compareDistance(t, a, b))).toBe(Math.sign(byDistance));
    }), { numRuns: 1000 });
  });

  it('commonPrefixLength counts the leading equal bits', () => {
    const a = new Uint8Array(32) as Id;
    expect(commonPrefixLength(a, a)).toBe(256);
    const b = new Uint8Array(32) as Id;
    b[0] = 0x80;
    expect(commonPrefixLength(a, b)).toBe(0);
    b[0] = 0x01;
    expect(commonPrefixLength(a, b)).toBe(7);
    const c = new Uint8Array(32) as Id;
    c[31] = 1;
    expect(commonPrefixLength(a, c)).toBe(255);
  });

  it('randomIdInBucket returns ids sharing exactly the asked prefix length', () => {
    const rnd = new SeededRandom(3);
    fc.assert(fc.property(id, fc.integer({ min: 0, max: 255 }), (self, prefix) => {
      const out = randomIdInBucket(self, prefix, (n) => rnd.bytes(n));
      expect(commonPrefixLength(self, out)).toBe(prefix);
    }), { numRuns: 2000 });
    expect(() => randomIdInBucket(new Uint8Array(32) as Id, 256, (n) => rnd.bytes(n))).toThrow(RangeError);
  });
});

describe('id conversions', () => {
  it('round-trips hex and rejects anything that is not 64 hex digits', () => {
    fc.assert(fc.property(id, (a) => {
      expect(idFromHex(idToHex(a))).toEqual(a);
    }), { numRuns: 200 });
    for (const bad of ['', 'ab', 'zz'.repeat(32), 'a'.repeat(63), 'a'.repeat(65)]) expect(idFromHex(bad)).toBeNull();
  });

  it('toId copies and checks the length', () => {
    const bytes = new Uint8Array(32).fill(7);
    const copy = toId(bytes);
    bytes[0] = 0;
    expect(copy[0]).toBe(7);
    expect(() => toId(new Uint8Array(31))).toThrow('an id must be 32 bytes, got 31');
  });
});

describe('sharedPrefixRange', () => {
  const ids = (...bytes: number[]): Id => Uint8Array.from({ length: 32 }, (_, i) => bytes[i] ?? 0) as Id;

  it('is the range of ids that keep the prefix two ids share', () => {
    expect(sharedPrefixRange(ids(0xff), ids(0xfe))).toEqual([ids(0xfe), null]);
    expect(sharedPrefixRange(ids(0x10, 0xff), ids(0x18))).toEqual([ids(0x10), ids(0x20)]);
    expect(sharedPrefixRange(ids(0x80), ids(0x00))).toEqual([ids(0x00), null]);
    expect(sharedPrefixRange(ids(0x12, 0x34, 0x57), ids(0x12, 0x34, 0x56))).toEqual([ids(0x12, 0x34, 0x56), ids(0x12, 0x34, 0x58)]);
    expect(sharedPrefixRange(ids(0x12, 0xff, 0xff), ids(0x12, 0xff, 0xfe))).toEqual([ids(0x12, 0xff, 0xfe), ids(0x13)]);
  });

  it('holds exactly the keys that share at least that prefix with the first id', () => {
    const random = new SeededRandom(11);
    for (let i = 0; i < 2000; i++) {
      const a = random.bytes(32) as Id;
      const b = a.slice() as Id;
      const flip = random.next() % 24; // differ early, so that random keys land on both sides
      b[flip >> 3]! ^= 0x80 >> (flip & 7);
      const k = a.slice() as Id;
      k.set(random.bytes(32).subarray(0, 1 + (random.next() % 4)), 0);
      const [start, end] = sharedPrefixRange(a, b);
      const inside = Buffer.compare(k, start) >= 0 && (end === null || Buffer.compare(k, end) < 0);
      expect(inside).toBe(commonPrefixLength(k, a) >= commonPrefixLength(a, b));
    }
  });
});
