/**
 * The ZkDhtValue codec (src/zk/value.ts): round trips of every shape (property), the key
 * derivation against an independent computation, the bytes the proof's valueHash covers, and a
 * hostile decoder: random and mutated bytes never throw, and each malformed field gets the refusal
 * code a storage node answers with, in the documented order.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { blake3, MLKEM768_CIPHERTEXT_BYTES, WRAPPED_KEY_BYTES } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import {
  checkZkKey, decodeZkValue, encodeZkValue, FIELD_MODULUS, fieldToBytes, keyField, MAX_ZK_DATA_BYTES, MAX_ZK_NAME_BYTES, MAX_ZK_READERS,
  MAX_ZK_VALUE_BYTES, parseZkValue, PROOF_BYTES, sealedBytes, valueField, ZK_ACCESS_LEVELS, ZK_ENVELOPE_OVERHEAD, type ZkDhtValue, zkKey,
  zkPublicSignals,
} from '../../src/zk/index.js';

const RUNS = process.env.SLOW === '1' ? 20_000 : 500;
const packr = new Packr({ useRecords: false, moreTypes: false });
const bytes = (n: number, fill = 0x5a): Uint8Array => new Uint8Array(n).fill(fill);
const stanza = (fill = 1) => ({ kemCiphertext: bytes(MLKEM768_CIPHERTEXT_BYTES, fill), wrappedKey: bytes(WRAPPED_KEY_BYTES, fill + 1) });

/** A well-formed value of each access level (the proof is only bytes here; the codec never checks it). */
function sample(access: ZkDhtValue['accessLevel'] = 'private', over: Partial<ZkDhtValue> = {}): ZkDhtValue {
  return {
    accessLevel: access, name: new TextEncoder().encode('profile'), commitment: 12345678901234567890n, nonce: 7n,
    validityProof: bytes(PROOF_BYTES, 3), wrappedKeys: access === 'restricted' ? [stanza(1), stanza(9)] : [],
    encryptedData: bytes(access === 'public' ? 5 : ZK_ENVELOPE_OVERHEAD + 10, 0x42), ...over,
  };
}

/** Packs the 8 wire fields as given, past encodeZkValue's checks (what a hostile peer can send). */
function raw(fields: Partial<Record<'version' | 'access' | 'name' | 'commitment' | 'nonce' | 'proof' | 'stanzas' | 'data', unknown>> = {}): Uint8Array {
  const v = sample('restricted');
  const f = {
    version: 1, access: 2, name: v.name, commitment: fieldToBytes(v.commitment), nonce: 7, proof: v.validityProof,
    stanzas: v.wrappedKeys.map((s) => [s.kemCiphertext, s.wrappedKey]), data: v.encryptedData, ...fields,
  };
  return packr.pack([f.version, f.access, f.name, f.commitment, f.nonce, f.proof, f.stanzas, f.data]);
}

const problemOf = (b: Uint8Array): string => {
  const p = parseZkValue(b);
  return 'problem' in p ? p.problem : 'ok';
};

const arbValue: fc.Arbitrary<ZkDhtValue> = fc.constantFrom(...ZK_ACCESS_LEVELS).chain((access) => fc.record({
  accessLevel: fc.constant(access),
  name: fc.uint8Array({ maxLength: MAX_ZK_NAME_BYTES }),
  commitment: fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }),
  nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  validityProof: fc.uint8Array({ minLength: PROOF_BYTES, maxLength: PROOF_BYTES }),
  wrappedKeys: access === 'restricted'
    ? fc.array(fc.record({
      kemCiphertext: fc.uint8Array({ minLength: MLKEM768_CIPHERTEXT_BYTES, maxLength: MLKEM768_CIPHERTEXT_BYTES }),
      wrappedKey: fc.uint8Array({ minLength: WRAPPED_KEY_BYTES, maxLength: WRAPPED_KEY_BYTES }),
    }), { minLength: 1, maxLength: 3 })
    : fc.constant([]),
  encryptedData: fc.uint8Array({ minLength: access === 'public' ? 0 : ZK_ENVELOPE_OVERHEAD, maxLength: 2048 }),
}));

describe('ZkDhtValue codec', () => {
  it('decode(encode(v)) equals v for every access level, nonce up to 2^64 - 1 and name up to 64 bytes', () => {
    fc.assert(fc.property(arbValue, (v) => {
      const back = decodeZkValue(encodeZkValue(v));
      expect(back).toEqual(v);
    }), { numRuns: RUNS });
  });

  it('keeps every bit of a nonce above 2^53 (it travels as a msgpack uint64)', () => {
    const big = (1n << 64n) - 1n;
    expect(decodeZkValue(encodeZkValue(sample('public', { nonce: big })))!.nonce).toBe(big);
    expect(decodeZkValue(encodeZkValue(sample('public', { nonce: (1n << 53n) + 1n })))!.nonce).toBe((1n << 53n) + 1n);
  });

  it('the largest value allowed encodes within MAX_ZK_VALUE_BYTES, and one byte of data more is refused', () => {
    const readers = Array.from({ length: MAX_ZK_READERS }, (_, i) => stanza(i));
    const largest = sample('restricted', { name: bytes(MAX_ZK_NAME_BYTES), nonce: (1n << 64n) - 1n, wrappedKeys: readers, encryptedData: bytes(MAX_ZK_DATA_BYTES) });
    const encoded = encodeZkValue(largest);
    expect(encoded.byteLength).toBeLessThanOrEqual(MAX_ZK_VALUE_BYTES);
    expect(decodeZkValue(encoded)).toEqual(largest);
    expect(() => encodeZkValue({ ...largest, encryptedData: bytes(MAX_ZK_DATA_BYTES + 1) })).toThrow(RangeError);
  });

  it('derives the key as BLAKE3(u8 len ‖ "zhtp-dht/v1/zk-key" ‖ commitment (32 B) ‖ name)', () => {
    const domain = new TextEncoder().encode('zhtp-dht/v1/zk-key');
    const name = new TextEncoder().encode('profile');
    const c = 987654321n;
    const expected = blake3(Buffer.concat([Uint8Array.of(domain.byteLength), domain, fieldToBytes(c), name]));
    expect(zkKey(c, name)).toEqual(expected);
    expect(zkKey(c, name)).not.toEqual(zkKey(c + 1n, name));
    expect(zkKey(c, name)).not.toEqual(zkKey(c, new Uint8Array(0)));
    expect(() => zkKey(c, bytes(MAX_ZK_NAME_BYTES + 1))).toThrow(RangeError);
    const v = sample('public', { commitment: c, name });
    expect(checkZkKey(v, expected as Key)).toBeNull();
    expect(checkZkKey(v, zkKey(c, new Uint8Array(0)))).toBe('COMMITMENT_MISMATCH');
  });

  it('builds the public signals from the STORE key and the sealed bytes (access level, readers, data)', () => {
    const v = sample('restricted');
    const key = zkKey(v.commitment, v.name);
    const sealed = sealedBytes(v);
    expect(sealed[0]).toBe(2);
    expect(sealed[1]).toBe(2);
    expect(sealed.byteLength).toBe(2 + 2 * (MLKEM768_CIPHERTEXT_BYTES + WRAPPED_KEY_BYTES) + v.encryptedData.byteLength);
    expect(zkPublicSignals(key, v)).toEqual([v.commitment, keyField(key), 7n, valueField(sealed)]);
    // Each part changes the value hash: none can be swapped under a captured proof.
    const hash = (x: ZkDhtValue): bigint => zkPublicSignals(key, x)[3]!;
    expect(hash({ ...v, accessLevel: 'private', wrappedKeys: [] })).not.toBe(hash(v));
    expect(hash({ ...v, wrappedKeys: [v.wrappedKeys[1]!, v.wrappedKeys[0]!] })).not.toBe(hash(v));
    expect(hash({ ...v, wrappedKeys: [v.wrappedKeys[0]!] })).not.toBe(hash(v));
    expect(hash({ ...v, encryptedData: v.encryptedData.map((b, i) => (i === 0 ? b ^ 1 : b)) })).not.toBe(hash(v));
  });
});

describe('ZkDhtValue decoder on hostile bytes', () => {
  it('never throws on random bytes or on mutations of a valid encoding', () => {
    const valid = encodeZkValue(sample('restricted'));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
      expect(['ok', 'BAD_REQUEST', 'VALUE_TOO_BIG', 'INVALID_PROOF', 'NONCE_OUT_OF_RANGE']).toContain(problemOf(b));
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.byteLength - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const b = valid.slice();
      for (const [at, byte] of edits) b[at] = byte;
      expect(() => parseZkValue(b)).not.toThrow();
    }), { numRuns: RUNS });
  });

  it('answers each malformed field with its refusal code', () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ['well formed', raw(), 'ok'],
      ['over MAX_ZK_VALUE_BYTES, unparsed', bytes(MAX_ZK_VALUE_BYTES + 1, 0x98), 'VALUE_TOO_BIG'],
      ['not an array of 8', packr.pack([1, 2, 3]), 'BAD_REQUEST'],
      ['truncated msgpack', raw().subarray(0, 100), 'BAD_REQUEST'],
      ['version 2', raw({ version: 2 }), 'BAD_REQUEST'],
      ['access level 3', raw({ access: 3 }), 'BAD_REQUEST'],
      ['commitment of 31 bytes', raw({ commitment: bytes(31, 1) }), 'BAD_REQUEST'],
      ['commitment ≥ r', raw({ commitment: bytes(32, 0xff) }), 'BAD_REQUEST'],
      ['nonce as a string', raw({ nonce: '7' }), 'BAD_REQUEST'],
      ['a stanza that is not a pair of bytes', raw({ stanzas: [[bytes(MLKEM768_CIPHERTEXT_BYTES)]] }), 'BAD_REQUEST'],
      ['data over 64 KiB', raw({ data: bytes(MAX_ZK_DATA_BYTES + 1) }), 'VALUE_TOO_BIG'],
      ['33 readers', raw({ stanzas: Array.from({ length: MAX_ZK_READERS + 1 }, () => [bytes(MLKEM768_CIPHERTEXT_BYTES), bytes(WRAPPED_KEY_BYTES)]) }), 'VALUE_TOO_BIG'],
      ['name of 65 bytes', raw({ name: bytes(MAX_ZK_NAME_BYTES + 1) }), 'VALUE_TOO_BIG'],
      ['proof of 255 bytes', raw({ proof: bytes(PROOF_BYTES - 1) }), 'INVALID_PROOF'],
      ['proof of 257 bytes', raw({ proof: bytes(PROOF_BYTES + 1) }), 'INVALID_PROOF'],
      ['empty proof', raw({ proof: new Uint8Array(0) }), 'INVALID_PROOF'],
      ['nonce 2^64 (a float64)', raw({ nonce: 2 ** 64 }), 'NONCE_OUT_OF_RANGE'],
      ['nonce -1', raw({ nonce: -1 }), 'NONCE_OUT_OF_RANGE'],
      ['nonce -1 as int64', raw({ nonce: -1n }), 'NONCE_OUT_OF_RANGE'],
      ['nonce 1.5', raw({ nonce: 1.5 }), 'NONCE_OUT_OF_RANGE'],
      ['nonce 2^64 - 1 as uint64', raw({ nonce: (1n << 64n) - 1n }), 'ok'],
      ['stanza ciphertext of 1,087 bytes', raw({ stanzas: [[bytes(MLKEM768_CIPHERTEXT_BYTES - 1), bytes(WRAPPED_KEY_BYTES)]] }), 'BAD_REQUEST'],
      ['restricted without readers', raw({ stanzas: [] }), 'BAD_REQUEST'],
      ['private with readers', raw({ access: 1 }), 'BAD_REQUEST'],
      ['private data shorter than an envelope', raw({ access: 1, stanzas: [], data: bytes(ZK_ENVELOPE_OVERHEAD - 1) }), 'BAD_REQUEST'],
      ['public data of 0 bytes', raw({ access: 0, stanzas: [], data: new Uint8Array(0) }), 'ok'],
      // The order: a field over its cap is VALUE_TOO_BIG even when the proof and nonce are bad too.
      ['over the cap, bad proof, bad nonce', raw({ data: bytes(MAX_ZK_DATA_BYTES + 1), proof: bytes(3), nonce: -1 }), 'VALUE_TOO_BIG'],
      ['bad proof and bad nonce', raw({ proof: bytes(3), nonce: -1 }), 'INVALID_PROOF'],
    ];
    for (const [name, b, expected] of cases) expect(problemOf(b), name).toBe(expected);
  });

  it('refuses to encode what it would refuse to decode', () => {
    expect(() => encodeZkValue(sample('private', { nonce: 1n << 64n }))).toThrow(RangeError);
    expect(() => encodeZkValue(sample('private', { nonce: -1n }))).toThrow(RangeError);
    expect(() => encodeZkValue(sample('private', { validityProof: bytes(PROOF_BYTES + 1) }))).toThrow(RangeError);
    expect(() => encodeZkValue(sample('private', { wrappedKeys: [stanza()] }))).toThrow(RangeError);
    expect(() => encodeZkValue(sample('restricted', { wrappedKeys: [] }))).toThrow(RangeError);
    expect(() => encodeZkValue(sample('public', { commitment: FIELD_MODULUS }))).toThrow(RangeError);
  });
});
