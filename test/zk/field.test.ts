/**
 * Field mappings (src/zk/field.ts): hash-then-shift into [0, 2^253), domain separation, the
 * property `key mod r` lacks (keys k and k + r map apart), golden vectors, and the encodings of
 * field elements and nonces.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIELD_DOMAINS, FIELD_MODULUS, fieldFromBytes, fieldFromBytes32, fieldToBytes, isFieldElement, keyField, nonceField,
  secretField, valueField,
} from '../../src/zk/index.js';

/** The mapping spelled out independently: SHA-256(len ‖ domain ‖ bytes) >> 3. */
function reference(domain: string, bytes: Uint8Array): bigint {
  const tag = Buffer.from(domain);
  const digest = createHash('sha256').update(Buffer.concat([Buffer.from([tag.length]), tag, bytes])).digest('hex');
  return BigInt(`0x${digest}`) / 8n;
}

const be32 = (x: bigint): Uint8Array => new Uint8Array(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));

describe('field mappings', () => {
  it('match the golden vectors', () => {
    // Regression vectors: changing them changes every commitment and proof on the network.
    expect(keyField(new Uint8Array(32)).toString(16)).toBe('a3641105042fa763bef551e0c4e363ed6647e43b153c3215ca6d1bc2ce3d6f');
    expect(valueField(new TextEncoder().encode('hello')).toString(16)).toBe('18adada551d17102bacae1740a34955742baa1719a585081d462038f7ddcae20');
  });

  it('equal SHA-256(len ‖ domain ‖ bytes) >> 3 and stay below 2^253 < r', () => {
    expect(2n ** 253n < FIELD_MODULUS).toBe(true);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const k = keyField(bytes);
      const v = valueField(bytes);
      expect(k).toBe(reference(FIELD_DOMAINS.key, bytes));
      expect(v).toBe(reference(FIELD_DOMAINS.value, bytes));
      expect(k < 2n ** 253n && v < 2n ** 253n && isFieldElement(k) && isFieldElement(v)).toBe(true);
      expect(k).not.toBe(v); // the domain keeps keys and values apart
    }), { numRuns: 200 });
  });

  it('maps keys k and k + r to different field elements (what `key mod r` would merge)', () => {
    let tested = 0;
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n - FIELD_MODULUS }), (k) => {
      tested++;
      const a = be32(k);
      const b = be32(k + FIELD_MODULUS);
      expect(k % FIELD_MODULUS).toBe((k + FIELD_MODULUS) % FIELD_MODULUS);
      expect(keyField(a)).not.toBe(keyField(b));
    }), { numRuns: 100 });
    expect(tested).toBe(100);
  });

  it('refuses empty or over-long domains and short secret material, naming the input', () => {
    expect(() => fieldFromBytes('', new Uint8Array(1))).toThrow('domain must be 1..255 bytes');
    expect(() => fieldFromBytes('x'.repeat(256), new Uint8Array(1))).toThrow(RangeError);
    expect(() => secretField(new Uint8Array(31))).toThrow('secret material must be at least 32 bytes');
    expect(secretField(new Uint8Array(32))).toBe(reference(FIELD_DOMAINS.secret, new Uint8Array(32)));
  });
});

describe('field element and nonce encodings', () => {
  it('round-trips field elements through 32 big-endian bytes', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }), (x) => {
      const bytes = fieldToBytes(x);
      expect(bytes.byteLength).toBe(32);
      expect(fieldFromBytes32(bytes)).toBe(x);
    }), { numRuns: 200 });
  });

  it('decodes to null, never throws, for r and above or a wrong length', () => {
    expect(fieldFromBytes32(be32(FIELD_MODULUS))).toBeNull();
    expect(fieldFromBytes32(new Uint8Array(32).fill(0xff))).toBeNull();
    expect(fieldFromBytes32(new Uint8Array(31))).toBeNull();
    expect(fieldFromBytes32(new Uint8Array(33))).toBeNull();
    expect(fieldFromBytes32('not bytes' as unknown as Uint8Array)).toBeNull();
    expect(() => fieldToBytes(FIELD_MODULUS)).toThrow(RangeError);
    expect(() => fieldToBytes(-1n)).toThrow(RangeError);
  });

  it('accepts nonces in [0, 2^64) only', () => {
    expect(nonceField(0)).toBe(0n);
    expect(nonceField(2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    for (const bad of [-1n, 2n ** 64n, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => nonceField(bad), String(bad)).toThrow('nonce must be an integer in [0, 2^64)');
    }
  });
});
