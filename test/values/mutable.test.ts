/**
 * Mutable records (BEP 44 with ML-DSA-65): the signing payload byte for byte, sign -> encode ->
 * decode -> verify, every malformed encoding as null (never a throw), every structural problem,
 * and the full BEP 44 store-decision matrix.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, mldsaKeygen, mldsaVerify } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import {
  checkMutableShape, compareMutable, decideMutable, decodeMutable, encodeMutable, MAX_MUTABLE_RECORD_BYTES,
  MAX_MUTABLE_VALUE_BYTES, MAX_SALT_BYTES, MUTABLE_DOMAIN, type MutableRecord, mutableKey, mutableSigningPayload, signMutable,
} from '../../src/values/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const alice = mldsaKeygen(new Uint8Array(32).fill(1));
const bob = mldsaKeygen(new Uint8Array(32).fill(2));
const salt = new TextEncoder().encode('profile');
const value = new TextEncoder().encode('hello, mutable world');
const signed = signMutable(alice.secretKey, alice.publicKey, salt, 7, value);
const key = mutableKey(alice.publicKey, salt);

/** A record with `seq` and `value`, signature irrelevant (decideMutable assumes verified inputs). */
const rec = (seq: number, v: Uint8Array = value): MutableRecord => ({ ...signed, seq, value: v });
const plain = (r: MutableRecord): unknown => ({ ...r, publicKey: hex(r.publicKey), salt: hex(r.salt), value: hex(r.value), signature: hex(r.signature) });

describe('mutable key and signing payload', () => {
  it('the key is BLAKE3(publicKey ‖ salt)', () => {
    expect(hex(key)).toBe(hex(blake3(Buffer.concat([alice.publicKey, salt]))));
    expect(hex(mutableKey(alice.publicKey, new Uint8Array(0)))).toBe(hex(blake3(alice.publicKey)));
    expect(hex(mutableKey(bob.publicKey, salt))).not.toBe(hex(key));
  });

  it('the payload is u8 len ‖ domain ‖ u32 len ‖ salt ‖ u64 seq ‖ u32 len ‖ value, built by hand', () => {
    const seq = 2 ** 40 + 5;
    const domain = Buffer.from(MUTABLE_DOMAIN, 'utf8');
    const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
    const u64 = Buffer.alloc(8);
    u64.writeBigUInt64BE(BigInt(seq));
    const expected = Buffer.concat([Buffer.from([domain.length]), domain, u32(salt.length), salt, u64, u32(value.length), value]);
    expect(hex(mutableSigningPayload(salt, seq, value))).toBe(hex(expected));
    expect(hex(mutableSigningPayload(new Uint8Array(0), 0, new Uint8Array(0)))).toBe(
      hex(Buffer.concat([Buffer.from([domain.length]), domain, u32(0), Buffer.alloc(8), u32(0)])),
    );
  });

  it('salt and value cannot trade bytes: moving a byte across the boundary changes the payload', () => {
    const a = mutableSigningPayload(new Uint8Array([1, 2]), 1, new Uint8Array([3]));
    const b = mutableSigningPayload(new Uint8Array([1]), 1, new Uint8Array([2, 3]));
    expect(hex(a)).not.toBe(hex(b));
  });

  it('refuses a seq that is not an integer in [0, 2^53 - 1]', () => {
    for (const seq of [-1, 1.5, 2 ** 53, Number.NaN]) expect(() => mutableSigningPayload(salt, seq, value)).toThrow(RangeError);
  });
});

describe('mutable record round trip and signature', () => {
  it('signMutable -> encodeMutable -> decodeMutable gives the same record, with copied bytes', () => {
    const bytes = encodeMutable(signed);
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_MUTABLE_RECORD_BYTES);
    const decoded = decodeMutable(bytes);
    expect(decoded).not.toBeNull();
    expect(plain(decoded!)).toEqual(plain(signed));
    expect(decoded!.value.buffer).not.toBe(bytes.buffer);
    expect(checkMutableShape(decoded!, key)).toBeNull();
  });

  it('a maximal record (64 B salt, 64 KiB value, seq 2^53 - 1) round-trips within MAX_MUTABLE_RECORD_BYTES', () => {
    const big = { ...signed, salt: new Uint8Array(MAX_SALT_BYTES).fill(9), value: new Uint8Array(MAX_MUTABLE_VALUE_BYTES).fill(8), seq: Number.MAX_SAFE_INTEGER };
    const bytes = encodeMutable(big);
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_MUTABLE_RECORD_BYTES);
    expect(plain(decodeMutable(bytes)!)).toEqual(plain(big));
  });

  it('the signature verifies over mutableSigningPayload, and not after a change to value, seq or salt', () => {
    const check = (r: MutableRecord): boolean => mldsaVerify(r.publicKey, mutableSigningPayload(r.salt, r.seq, r.value), r.signature);
    expect(check(signed)).toBe(true);
    const flipped = (b: Uint8Array): Uint8Array => { const c = b.slice(); c[0] = c[0]! ^ 1; return c; };
    expect(check({ ...signed, value: flipped(value) })).toBe(false);
    expect(check({ ...signed, seq: signed.seq ^ 1 })).toBe(false);
    expect(check({ ...signed, salt: flipped(salt) })).toBe(false);
    expect(check({ ...signed, publicKey: bob.publicKey })).toBe(false);
  });

  it('signMutable and encodeMutable throw RangeError on a field over a limit', () => {
    expect(() => signMutable(alice.secretKey, alice.publicKey, new Uint8Array(MAX_SALT_BYTES + 1), 0, value)).toThrow(RangeError);
    expect(() => signMutable(alice.secretKey, alice.publicKey, salt, 0, new Uint8Array(MAX_MUTABLE_VALUE_BYTES + 1))).toThrow(RangeError);
    expect(() => encodeMutable({ ...signed, seq: -1 })).toThrow(RangeError);
    expect(() => encodeMutable({ ...signed, signature: signed.signature.subarray(1) })).toThrow(RangeError);
    expect(() => encodeMutable({ ...signed, publicKey: signed.publicKey.subarray(1) })).toThrow(RangeError);
  });
});

/** Packs an arbitrary array the way a hostile peer could (no encoder checks). */
const rawPack = (fields: unknown[]): Uint8Array => new Packr({ useRecords: false, moreTypes: false }).pack(fields);

describe('decodeMutable is total', () => {
  it('returns null for each malformed encoding', () => {
    const r = signed;
    const bytes = encodeMutable(r);
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['truncated', bytes.subarray(0, bytes.byteLength - 1)],
      ['trailing byte', Buffer.concat([bytes, new Uint8Array([0])])],
      ['version 2', rawPack([2, r.publicKey, r.salt, r.seq, r.value, r.signature])],
      ['extra field', rawPack([1, r.publicKey, r.salt, r.seq, r.value, r.signature, 0])],
      ['missing field', rawPack([1, r.publicKey, r.salt, r.seq, r.value])],
      ['negative seq', rawPack([1, r.publicKey, r.salt, -1, r.value, r.signature])],
      ['fractional seq', rawPack([1, r.publicKey, r.salt, 1.5, r.value, r.signature])],
      ['seq 2^53', rawPack([1, r.publicKey, r.salt, 2 ** 53, r.value, r.signature])],
      ['seq as string', rawPack([1, r.publicKey, r.salt, '7', r.value, r.signature])],
      ['salt too big', rawPack([1, r.publicKey, new Uint8Array(MAX_SALT_BYTES + 1), r.seq, r.value, r.signature])],
      ['value too big', rawPack([1, r.publicKey, r.salt, r.seq, new Uint8Array(MAX_MUTABLE_VALUE_BYTES + 1), r.signature])],
      ['short public key', rawPack([1, r.publicKey.subarray(1), r.salt, r.seq, r.value, r.signature])],
      ['long signature', rawPack([1, r.publicKey, r.salt, r.seq, r.value, Buffer.concat([r.signature, new Uint8Array(1)])])],
      ['value as string', rawPack([1, r.publicKey, r.salt, r.seq, 'text', r.signature])],
      ['oversized input', new Uint8Array(MAX_MUTABLE_RECORD_BYTES + 1).fill(0x96)],
      ['a map, not an array', rawPack([new Map([[1, 2]])])],
    ];
    for (const [name, c] of cases) expect(decodeMutable(c), name).toBeNull();
  });

  it('random bytes never throw and are null', () => {
    const headed = fc.uint8Array({ maxLength: 6000 }).map((b) => Buffer.concat([new Uint8Array([0x96]), b]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), headed), (b) => {
      expect(decodeMutable(b)).toBeNull();
    }), { numRuns: 500 });
  });

  it('a valid encoding with one byte changed never throws', () => {
    const bytes = encodeMutable(signed);
    fc.assert(fc.property(fc.nat({ max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const m = bytes.slice();
      m[at] = m[at]! ^ xor;
      expect(() => decodeMutable(m)).not.toThrow();
    }), { numRuns: 500 });
  });
});

describe('checkMutableShape', () => {
  it('names every structural problem', () => {
    expect(checkMutableShape(signed, key)).toBeNull();
    expect(checkMutableShape({ ...signed, salt: new Uint8Array(MAX_SALT_BYTES + 1) }, key)).toBe('SALT_TOO_BIG');
    expect(checkMutableShape({ ...signed, value: new Uint8Array(MAX_MUTABLE_VALUE_BYTES + 1) }, key)).toBe('VALUE_TOO_BIG');
    expect(checkMutableShape(signed, mutableKey(bob.publicKey, salt))).toBe('INVALID_CONTENT');
    expect(checkMutableShape(signed, mutableKey(alice.publicKey, new Uint8Array(0)))).toBe('INVALID_CONTENT');
    expect(checkMutableShape(signed, new Uint8Array(32) as Key)).toBe('INVALID_CONTENT');
    const shortPk = signed.publicKey.subarray(1);
    expect(checkMutableShape({ ...signed, publicKey: shortPk }, mutableKey(shortPk, salt))).toBe('BAD_REQUEST');
    expect(checkMutableShape({ ...signed, signature: new Uint8Array(MLDSA65_SIGNATURE_BYTES - 1) }, key)).toBe('BAD_REQUEST');
    for (const seq of [-1, 0.5, 2 ** 53, Number.POSITIVE_INFINITY]) expect(checkMutableShape({ ...signed, seq }, key)).toBe('BAD_REQUEST');
    expect(checkMutableShape({ ...signed, seq: 0 }, key)).toBeNull();
    expect(checkMutableShape({ ...signed, seq: Number.MAX_SAFE_INTEGER }, key)).toBeNull();
    expect(signed.publicKey.byteLength).toBe(MLDSA65_PUBLIC_KEY_BYTES);
  });
});

describe('decideMutable (BEP 44)', () => {
  const other = new TextEncoder().encode('another value');
  it('stores on a missing key, with or without cas (cas on a missing key is ignored)', () => {
    expect(decideMutable(null, rec(1), null)).toEqual({ action: 'store' });
    expect(decideMutable(null, rec(1), 99)).toEqual({ action: 'store' });
  });
  it('refuses CAS_MISMATCH when cas is not the stored seq, before looking at seq', () => {
    expect(decideMutable(rec(5), rec(6), 4)).toEqual({ action: 'refuse', code: 'CAS_MISMATCH' });
    expect(decideMutable(rec(5), rec(3), 4)).toEqual({ action: 'refuse', code: 'CAS_MISMATCH' });
    expect(decideMutable(rec(5), rec(6), 5)).toEqual({ action: 'store' });
  });
  it('refuses a lower seq with SEQ_TOO_LOW', () => {
    expect(decideMutable(rec(5), rec(4), null)).toEqual({ action: 'refuse', code: 'SEQ_TOO_LOW' });
    expect(decideMutable(rec(5), rec(4), 5)).toEqual({ action: 'refuse', code: 'SEQ_TOO_LOW' });
  });
  it('refreshes the same seq with identical value bytes, and refuses SEQ_REUSED for a different value', () => {
    expect(decideMutable(rec(5), rec(5, value.slice()), null)).toEqual({ action: 'refresh' });
    expect(decideMutable(rec(5), rec(5, other), null)).toEqual({ action: 'refuse', code: 'SEQ_REUSED' });
  });
  it('stores a higher seq', () => {
    expect(decideMutable(rec(5), rec(6, other), null)).toEqual({ action: 'store' });
  });
});

describe('compareMutable', () => {
  it('prefers the higher seq, then the greater value; identical records compare 0', () => {
    expect(compareMutable(rec(6), rec(5))).toBeGreaterThan(0);
    expect(compareMutable(rec(5), rec(6))).toBeLessThan(0);
    expect(compareMutable(rec(5), rec(5, value.slice()))).toBe(0);
    const lo = rec(5, new Uint8Array([1, 2]));
    const hi = rec(5, new Uint8Array([1, 3]));
    expect(compareMutable(hi, lo)).toBeGreaterThan(0);
    expect(compareMutable(lo, hi)).toBeLessThan(0);
    expect(compareMutable(rec(5, new Uint8Array([1])), rec(5, new Uint8Array([1, 0])))).toBeLessThan(0);
    expect([rec(5, hi.value), rec(9), lo].sort(compareMutable).at(-1)!.seq).toBe(9);
  });
});
